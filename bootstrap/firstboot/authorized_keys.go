package firstboot

import (
	"bytes"
	"errors"
	"fmt"
	"path"
	"strings"

	"github.com/hardbake/hardbake/bootstrap/host"
	"github.com/hardbake/hardbake/bootstrap/report"
	"github.com/hardbake/hardbake/bootstrap/root"
	"github.com/hardbake/hardbake/bootstrap/steps"
	"golang.org/x/sys/unix"
)

// authorizedKeysText is the file's content: the re-encoded keys, one a line.
func authorizedKeysText(h *host.Host) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "# Written by hardbake firstboot from %s.\n", strings.ReplaceAll(h.Source, "\n", " "))
	for _, k := range h.Keys {
		b.WriteString(k.Line)
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// writeAuthorizedKeys writes ~/.ssh (0700) and ~/.ssh/authorized_keys
// (0600), owned by the user, without ever following a symlink: the home
// directory belongs to the user, and a link planted there (.ssh ->
// /etc, authorized_keys -> /etc/shadow) must not make root write or chown
// somewhere else. Every open is relative to a directory descriptor with
// O_NOFOLLOW; the file is replaced by rename, which replaces a link itself.
func writeAuthorizedKeys(env *steps.Env, a *account, h *host.Host) ([]report.Change, error) {
	// The home's parent is resolved inside the root (e.g. /home -> /srv/home
	// in the image); from the home on, nothing is followed.
	parent, err := env.Root.Resolve(path.Dir(a.Home))
	if err != nil {
		return nil, err
	}
	homeFD, err := unix.Open(env.Root.HostPath(path.Join(parent, path.Base(a.Home))), unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("home %s: %w (a symbolic link or not a directory is refused)", a.Home, err)
	}
	defer unix.Close(homeFD)
	var st unix.Stat_t
	if err := unix.Fstat(homeFD, &st); err != nil {
		return nil, err
	}
	if int(st.Uid) != a.UID {
		return nil, fmt.Errorf("home %s is owned by uid %d, not by %s (uid %d): refused", a.Home, st.Uid, a.Name, a.UID)
	}
	var changes []report.Change
	sshDir := path.Join(a.Home, ".ssh")
	switch err := unix.Mkdirat(homeFD, ".ssh", 0o700); {
	case err == nil:
		changes = append(changes, report.Change{Kind: "write", Path: sshDir, Summary: "directory 0700 " + a.Name})
	case errors.Is(err, unix.EEXIST):
	default:
		return nil, fmt.Errorf("%s: %w", sshDir, err)
	}
	dirFD, err := unix.Openat(homeFD, ".ssh", unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("%s: %w (a symbolic link is refused)", sshDir, err)
	}
	defer unix.Close(dirFD)
	if err := fixOwnerMode(dirFD, a, 0o700); err != nil {
		return nil, fmt.Errorf("%s: %w", sshDir, err)
	}

	want := authorizedKeysText(h)
	file := path.Join(sshDir, "authorized_keys")
	if same(dirFD, "authorized_keys", want, a) {
		return changes, nil
	}
	if err := root.WriteAt(dirFD, sshDir, "authorized_keys", want, 0o600, root.Owner{UID: a.UID, GID: a.GID}); err != nil {
		return changes, fmt.Errorf("%s: %w", file, err)
	}
	return append(changes, report.Change{Kind: "write", Path: file, Summary: "0600 " + a.Name + ", " + keySummary(h.Keys)}), nil
}

func fixOwnerMode(fd int, a *account, mode uint32) error {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return err
	}
	if int(st.Uid) != a.UID || int(st.Gid) != a.GID {
		if err := unix.Fchown(fd, a.UID, a.GID); err != nil {
			return err
		}
	}
	if st.Mode&0o7777 != mode {
		return unix.Fchmod(fd, mode)
	}
	return nil
}

// same reports whether name in dirFD is a regular file with exactly data,
// the user's ownership and mode 0600.
func same(dirFD int, name string, data []byte, a *account) bool {
	fd, err := unix.Openat(dirFD, name, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return false
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if unix.Fstat(fd, &st) != nil || st.Mode&unix.S_IFMT != unix.S_IFREG || st.Mode&0o7777 != 0o600 ||
		int(st.Uid) != a.UID || int(st.Gid) != a.GID || st.Size != int64(len(data)) {
		return false
	}
	buf := make([]byte, len(data)+1)
	n, _ := unix.Read(fd, buf)
	return n == len(data) && bytes.Equal(buf[:n], data)
}
