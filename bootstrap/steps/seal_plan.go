package steps

import (
	"io/fs"
	"path"
	"strings"
)

// sealOp is one thing sealing does to the image.
type sealOp struct {
	Kind string // "remove", "removeall", "truncate", "write", "run", "sethostname"
	Path string
	Cmd  []string
	Data []byte      // "write": the new contents; "sethostname": the name
	Mode fs.FileMode // "write": a new file's mode (0: 0644)
	Why  string
}

// UnnamedHost is what a sealed image calls itself until its first boot
// names it (host data, cloud-init's meta-data, or DHCP under systemd, which
// treats "localhost" as no name at all).
const UnnamedHost = "localhost"

// hostsWithoutName drops the 127.0.1.1 line of /etc/hosts (Debian's line for
// the machine's own name) when it names name, keeping every other line; ok
// is false when there is nothing to drop.
func hostsWithoutName(text, name string) (string, bool) {
	lines := strings.SplitAfter(text, "\n")
	out := lines[:0]
	dropped := false
	for _, l := range lines {
		f := strings.Fields(l)
		if len(f) > 1 && f[0] == "127.0.1.1" && (f[1] == name || strings.HasPrefix(f[1], name+".")) {
			dropped = true
			continue
		}
		out = append(out, l)
	}
	return strings.Join(out, ""), dropped
}

// Histories removed from root's and every user's home.
var shellHistories = []string{".bash_history", ".zsh_history", ".python_history", ".lesshst", ".viminfo", ".mysql_history", ".psql_history", ".sqlite_history", ".node_repl_history", ".wget-hsts"}

// rotatedLog matches log files that are old rotations: removed, not emptied.
func rotatedLog(name string) bool {
	for _, suf := range []string{".gz", ".xz", ".bz2", ".zst", ".old"} {
		if strings.HasSuffix(name, suf) {
			return true
		}
	}
	if i := strings.LastIndexByte(name, '.'); i >= 0 && i < len(name)-1 {
		return strings.Trim(name[i+1:], "0123456789") == ""
	}
	return false
}

// journalFile: journald's files cannot be emptied (a truncated journal file
// is corrupt), only removed.
func journalFile(name string) bool {
	return strings.HasSuffix(name, ".journal") || strings.HasSuffix(name, ".journal~")
}

// logOp decides what happens to one file under /var/log (nil: nothing).
func logOp(p string, size int64) *sealOp {
	name := path.Base(p)
	switch {
	case journalFile(name):
		return &sealOp{Kind: "remove", Path: p, Why: "journal"}
	case rotatedLog(name):
		return &sealOp{Kind: "remove", Path: p, Why: "rotated log"}
	case size > 0:
		return &sealOp{Kind: "truncate", Path: p, Why: "log of the build"}
	}
	return nil
}

// kept reports whether p is, holds or lies under a path to keep.
func kept(p string, keep []string) bool {
	for _, k := range keep {
		k = path.Clean(k)
		if p == k || strings.HasPrefix(k, p+"/") || strings.HasPrefix(p, k+"/") {
			return true
		}
	}
	return false
}

// walkFiles calls fn for every regular file under dir (via the root).
type dirReader interface {
	ReadDir(p string) ([]fs.DirEntry, error)
}

func walkFiles(r dirReader, dir string, fn func(p string, info fs.FileInfo)) {
	entries, err := r.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		p := path.Join(dir, e.Name())
		switch {
		case e.Type()&fs.ModeSymlink != 0:
		case e.IsDir():
			walkFiles(r, p, fn)
		case e.Type().IsRegular():
			if info, err := e.Info(); err == nil {
				fn(p, info)
			}
		}
	}
}
