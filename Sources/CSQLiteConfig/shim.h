// sqlite3_config is variadic, which Swift cannot call: these wrap the two settings jointops
// makes before its first connection opens.
#include <sqlite3.h>

// Connections without a mutex of their own: every connection is used by one thread at a
// time already (GRDB's serialized queues; the checkpointer's own queue).
static inline int jointops_sqlite3_config_multithread(void) { return sqlite3_config(SQLITE_CONFIG_MULTITHREAD); }

// No process-wide count of SQLite's memory, which takes a global lock on every allocation.
static inline int jointops_sqlite3_config_no_memstatus(void) { return sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0); }
