// A VFS that coalesces the writes SQLite makes to a WAL file.
//
// SQLite writes each WAL frame as two writes (a 24-byte header, then the page), at offsets
// that are not page-aligned, so every frame costs two system calls and three visits to the
// page cache. This VFS gathers the frames a transaction appends into one buffer and writes
// it in one call before anything can depend on it:
//
// - before an fsync of the WAL: at synchronous=FULL SQLite syncs the WAL at every commit,
//   before it publishes the new frames in the wal-index, so no other connection (or process)
//   can be told of a frame that is still in the buffer;
// - before any read, truncation, size query, file control or memory map of that WAL, and
//   before a write anywhere but right after the buffered bytes (so writes land in the order
//   SQLite made them);
// - when the buffer is full, and when the file is closed.
//
// Installed as the default VFS, it hands every file but a WAL to the default VFS as it is,
// and wraps each WAL in pass-through mode. Coalescing is switched on for one connection's
// WAL only (`jointops_wal_writes_start`), by the store, on its writer, once that writer
// is at synchronous=FULL: NORMAL does not sync at commit, so frames would be published
// while still buffered (GRDB itself writes a first transaction at NORMAL when it opens a pool).
#include "jointops_wal_writes.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

// At most 64 KiB a write: the default (unix) VFS takes only the low 17 bits of a write's
// length (it never writes more than a 64 KiB page and its header itself), so a larger write
// would be cut short and reported as a full disk.
enum { BUFFER_CAPACITY = 1 << 16 };

typedef struct WALFile {
    sqlite3_file base;
    sqlite3_file *real;  // the default VFS's file, allocated right after this struct
    unsigned char *buffer;
    int length;
    sqlite3_int64 start;  // the file offset of buffer[0]
    int coalescing;       // 0: every call goes straight to `real`
    long long taken;      // writes SQLite made while coalescing
    long long made;       // the writes they became
} WALFile;

static sqlite3_vfs *defaultVFS;

static sqlite3_vfs jointopsVFS;

static int flush(WALFile *file) {
    if (file->length == 0) return SQLITE_OK;
    file->made += 1;
    int rc = file->real->pMethods->xWrite(file->real, file->buffer, file->length, file->start);
    // On failure the frames are dropped: SQLite learns of it from this call (a sync, a
    // read...) and the transaction fails; frames never synced are never published.
    file->length = 0;
    return rc;
}

static int walClose(sqlite3_file *f) {
    WALFile *file = (WALFile *)f;
    int flushed = flush(file);
    int rc = file->real->pMethods ? file->real->pMethods->xClose(file->real) : SQLITE_OK;
    free(file->buffer);
    file->buffer = NULL;
    return flushed != SQLITE_OK ? flushed : rc;
}

static int walRead(sqlite3_file *f, void *out, int amount, sqlite3_int64 offset) {
    WALFile *file = (WALFile *)f;
    int rc = flush(file);
    if (rc != SQLITE_OK) return rc;
    return file->real->pMethods->xRead(file->real, out, amount, offset);
}

static int walWrite(sqlite3_file *f, const void *data, int amount, sqlite3_int64 offset) {
    WALFile *file = (WALFile *)f;
    if (!file->coalescing) return file->real->pMethods->xWrite(file->real, data, amount, offset);
    file->taken += 1;
    if (file->length > 0 && offset == file->start + file->length && file->length + amount <= BUFFER_CAPACITY) {
        memcpy(file->buffer + file->length, data, amount);
        file->length += amount;
        return SQLITE_OK;
    }
    int rc = flush(file);
    if (rc != SQLITE_OK) return rc;
    if (amount >= BUFFER_CAPACITY) {
        file->made += 1;
        return file->real->pMethods->xWrite(file->real, data, amount, offset);  // as SQLite made it
    }
    if (file->buffer == NULL) {
        file->buffer = malloc(BUFFER_CAPACITY);
        if (file->buffer == NULL) {
            file->made += 1;
            return file->real->pMethods->xWrite(file->real, data, amount, offset);
        }
    }
    memcpy(file->buffer, data, amount);
    file->length = amount;
    file->start = offset;
    return SQLITE_OK;
}

static int walTruncate(sqlite3_file *f, sqlite3_int64 size) {
    WALFile *file = (WALFile *)f;
    int rc = flush(file);
    if (rc != SQLITE_OK) return rc;
    return file->real->pMethods->xTruncate(file->real, size);
}

static int walSync(sqlite3_file *f, int flags) {
    WALFile *file = (WALFile *)f;
    int rc = flush(file);
    if (rc != SQLITE_OK) return rc;
    return file->real->pMethods->xSync(file->real, flags);
}

static int walFileSize(sqlite3_file *f, sqlite3_int64 *size) {
    WALFile *file = (WALFile *)f;
    int rc = flush(file);
    if (rc != SQLITE_OK) return rc;
    return file->real->pMethods->xFileSize(file->real, size);
}

static int walLock(sqlite3_file *f, int level) {
    WALFile *file = (WALFile *)f;
    return file->real->pMethods->xLock(file->real, level);
}

static int walUnlock(sqlite3_file *f, int level) {
    WALFile *file = (WALFile *)f;
    return file->real->pMethods->xUnlock(file->real, level);
}

static int walCheckReservedLock(sqlite3_file *f, int *result) {
    WALFile *file = (WALFile *)f;
    return file->real->pMethods->xCheckReservedLock(file->real, result);
}

static int walFileControl(sqlite3_file *f, int op, void *argument) {
    WALFile *file = (WALFile *)f;
    int rc = flush(file);
    if (rc != SQLITE_OK) return rc;
    return file->real->pMethods->xFileControl(file->real, op, argument);
}

static int walSectorSize(sqlite3_file *f) {
    WALFile *file = (WALFile *)f;
    return file->real->pMethods->xSectorSize(file->real);
}

static int walDeviceCharacteristics(sqlite3_file *f) {
    WALFile *file = (WALFile *)f;
    return file->real->pMethods->xDeviceCharacteristics(file->real);
}

static int walShmMap(sqlite3_file *f, int region, int size, int extend, void volatile **memory) {
    WALFile *file = (WALFile *)f;
    if (file->real->pMethods->iVersion < 2) return SQLITE_IOERR;
    return file->real->pMethods->xShmMap(file->real, region, size, extend, memory);
}

static int walShmLock(sqlite3_file *f, int offset, int count, int flags) {
    WALFile *file = (WALFile *)f;
    if (file->real->pMethods->iVersion < 2) return SQLITE_IOERR;
    return file->real->pMethods->xShmLock(file->real, offset, count, flags);
}

static void walShmBarrier(sqlite3_file *f) {
    WALFile *file = (WALFile *)f;
    if (file->real->pMethods->iVersion < 2) return;
    file->real->pMethods->xShmBarrier(file->real);
}

static int walShmUnmap(sqlite3_file *f, int deleteFlag) {
    WALFile *file = (WALFile *)f;
    if (file->real->pMethods->iVersion < 2) return SQLITE_OK;
    return file->real->pMethods->xShmUnmap(file->real, deleteFlag);
}

static int walFetch(sqlite3_file *f, sqlite3_int64 offset, int amount, void **memory) {
    WALFile *file = (WALFile *)f;
    int rc = flush(file);
    if (rc != SQLITE_OK) return rc;
    if (file->real->pMethods->iVersion < 3) {
        *memory = NULL;  // SQLite then reads instead
        return SQLITE_OK;
    }
    return file->real->pMethods->xFetch(file->real, offset, amount, memory);
}

static int walUnfetch(sqlite3_file *f, sqlite3_int64 offset, void *memory) {
    WALFile *file = (WALFile *)f;
    if (file->real->pMethods->iVersion < 3) return SQLITE_OK;
    return file->real->pMethods->xUnfetch(file->real, offset, memory);
}

static const sqlite3_io_methods walMethods = {
    3, walClose, walRead, walWrite, walTruncate, walSync, walFileSize, walLock, walUnlock, walCheckReservedLock,
    walFileControl, walSectorSize, walDeviceCharacteristics, walShmMap, walShmLock, walShmBarrier, walShmUnmap,
    walFetch, walUnfetch,
};

static int vfsOpen(sqlite3_vfs *vfs, sqlite3_filename name, sqlite3_file *f, int flags, int *outFlags) {
    (void)vfs;
    if (!(flags & SQLITE_OPEN_WAL)) {
        return defaultVFS->xOpen(defaultVFS, name, f, flags, outFlags);
    }
    WALFile *file = (WALFile *)f;
    memset(file, 0, sizeof(WALFile));
    file->real = (sqlite3_file *)&file[1];
    int rc = defaultVFS->xOpen(defaultVFS, name, file->real, flags, outFlags);
    if (file->real->pMethods != NULL) file->base.pMethods = &walMethods;
    return rc;
}

static int vfsDelete(sqlite3_vfs *vfs, const char *name, int syncDirectory) {
    (void)vfs;
    return defaultVFS->xDelete(defaultVFS, name, syncDirectory);
}

static int vfsAccess(sqlite3_vfs *vfs, const char *name, int flags, int *result) {
    (void)vfs;
    return defaultVFS->xAccess(defaultVFS, name, flags, result);
}

static int vfsFullPathname(sqlite3_vfs *vfs, const char *name, int size, char *out) {
    (void)vfs;
    return defaultVFS->xFullPathname(defaultVFS, name, size, out);
}

static void *vfsDlOpen(sqlite3_vfs *vfs, const char *name) {
    (void)vfs;
    return defaultVFS->xDlOpen(defaultVFS, name);
}

static void vfsDlError(sqlite3_vfs *vfs, int size, char *message) {
    (void)vfs;
    defaultVFS->xDlError(defaultVFS, size, message);
}

static void (*vfsDlSym(sqlite3_vfs *vfs, void *handle, const char *symbol))(void) {
    (void)vfs;
    return defaultVFS->xDlSym(defaultVFS, handle, symbol);
}

static void vfsDlClose(sqlite3_vfs *vfs, void *handle) {
    (void)vfs;
    defaultVFS->xDlClose(defaultVFS, handle);
}

static int vfsRandomness(sqlite3_vfs *vfs, int size, char *out) {
    (void)vfs;
    return defaultVFS->xRandomness(defaultVFS, size, out);
}

static int vfsSleep(sqlite3_vfs *vfs, int microseconds) {
    (void)vfs;
    return defaultVFS->xSleep(defaultVFS, microseconds);
}

static int vfsCurrentTime(sqlite3_vfs *vfs, double *now) {
    (void)vfs;
    return defaultVFS->xCurrentTime(defaultVFS, now);
}

static int vfsGetLastError(sqlite3_vfs *vfs, int size, char *out) {
    (void)vfs;
    return defaultVFS->xGetLastError ? defaultVFS->xGetLastError(defaultVFS, size, out) : 0;
}

static int vfsCurrentTimeInt64(sqlite3_vfs *vfs, sqlite3_int64 *now) {
    (void)vfs;
    return defaultVFS->xCurrentTimeInt64(defaultVFS, now);
}

static int installResult = SQLITE_ERROR;

static void installVFS(void) {
    defaultVFS = sqlite3_vfs_find(NULL);
    if (defaultVFS == NULL || defaultVFS->iVersion < 2) return;
    jointopsVFS = (sqlite3_vfs){
        .iVersion = 2,
        .szOsFile = (int)sizeof(WALFile) + defaultVFS->szOsFile,
        .mxPathname = defaultVFS->mxPathname,
        .zName = "jointops",
        .xOpen = vfsOpen,
        .xDelete = vfsDelete,
        .xAccess = vfsAccess,
        .xFullPathname = vfsFullPathname,
        .xDlOpen = vfsDlOpen,
        .xDlError = vfsDlError,
        .xDlSym = vfsDlSym,
        .xDlClose = vfsDlClose,
        .xRandomness = vfsRandomness,
        .xSleep = vfsSleep,
        .xCurrentTime = vfsCurrentTime,
        .xGetLastError = vfsGetLastError,
        .xCurrentTimeInt64 = vfsCurrentTimeInt64,
    };
    installResult = sqlite3_vfs_register(&jointopsVFS, 1);
}

int jointops_wal_writes_install(void) {
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, installVFS);
    return installResult;
}

int jointops_wal_writes_start(sqlite3 *connection) {
    sqlite3_file *wal = NULL;
    int rc = sqlite3_file_control(connection, "main", SQLITE_FCNTL_JOURNAL_POINTER, &wal);
    if (rc != SQLITE_OK) return rc;
    if (wal == NULL || wal->pMethods != &walMethods) return SQLITE_NOTFOUND;
    ((WALFile *)wal)->coalescing = 1;
    return SQLITE_OK;
}

int jointops_wal_writes_counts(sqlite3 *connection, long long *taken, long long *made) {
    sqlite3_file *wal = NULL;
    int rc = sqlite3_file_control(connection, "main", SQLITE_FCNTL_JOURNAL_POINTER, &wal);
    if (rc != SQLITE_OK) return rc;
    if (wal == NULL || wal->pMethods != &walMethods) return SQLITE_NOTFOUND;
    *taken = ((WALFile *)wal)->taken;
    *made = ((WALFile *)wal)->made;
    return SQLITE_OK;
}
