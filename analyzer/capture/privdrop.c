/*
 * privdrop.c - gives up root after the capture handle is open, as
 * tcpdump's -Z does: supplementary groups, then group, then user, and a
 * check that root cannot be regained.
 */
#include "capture/capture.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include "core/mw.h"

int mw_drop_privileges(const char *user, char *errbuf, size_t errlen)
{
    struct passwd *pw = getpwnam(user);

    if (pw == NULL) {
        mw_fmt_err(errbuf, errlen, "-Z %s: no such user", user);
        return MW_EINVAL;
    }
    if (initgroups(pw->pw_name, pw->pw_gid) != 0 || setgid(pw->pw_gid) != 0 ||
            setuid(pw->pw_uid) != 0) {
        mw_fmt_errno(errbuf, errlen, errno, "-Z %s: cannot drop privileges", user);
        return MW_EINVAL;
    }
    if (pw->pw_uid != 0 && (setuid(0) == 0 || geteuid() == 0)) {
        mw_fmt_err(errbuf, errlen, "-Z %s: root could be regained; refusing to run", user);
        return MW_EINVAL;
    }
    return 0;
}
