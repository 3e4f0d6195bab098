// Coalesced WAL writes: see wal_writes.c.
#ifndef JOINTOPS_WAL_WRITES_H
#define JOINTOPS_WAL_WRITES_H

#include <sqlite3.h>

// Installs the "jointops" VFS as SQLite's default (once; later calls do nothing), so that
// the WAL of every database opened afterwards can be coalesced. Returns an SQLite result code.
int jointops_wal_writes_install(void);

// Coalesces the writes of `connection` to its WAL from now on. Only for a connection at
// synchronous=FULL that stays so, whose database was opened after the install. Returns
// SQLITE_OK, or SQLITE_NOTFOUND when its WAL is not open or not through the VFS.
int jointops_wal_writes_start(sqlite3 *connection);

// For tests and benchmarks: the writes `connection` made to its WAL while coalescing, and
// the writes they became. SQLITE_NOTFOUND when its WAL is not open or not through the VFS.
int jointops_wal_writes_counts(sqlite3 *connection, long long *taken, long long *made);

#endif
