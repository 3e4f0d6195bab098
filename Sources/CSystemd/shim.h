// libsystemd: readiness and watchdog notifications, socket activation, the journal.
#include <systemd/sd-daemon.h>
#include <systemd/sd-journal.h>
#include <sys/uio.h>
