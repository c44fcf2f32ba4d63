package root

import (
	"errors"
	"io/fs"
	"os"
	"syscall"
)

// Snapshot remembers the state of files before a step changes them, so a
// failed validation (sshd -t, nft -c, visudo -c) can put every file back
// exactly: content, mode and owner, or absence.
type Snapshot struct {
	r     *Root
	saved map[string]savedFile
	order []string
}

type savedFile struct {
	exists bool
	data   []byte
	mode   fs.FileMode
	owner  Owner
}

// Snapshot starts an empty snapshot on r.
func (r *Root) Snapshot() *Snapshot {
	return &Snapshot{r: r, saved: map[string]savedFile{}}
}

// Save records p's current state (once; later calls keep the first state).
func (s *Snapshot) Save(p string) error {
	rp, err := s.r.Resolve(p)
	if err != nil {
		return err
	}
	if _, ok := s.saved[rp]; ok {
		return nil
	}
	host := s.r.HostPath(rp)
	fi, err := os.Lstat(host)
	if errors.Is(err, fs.ErrNotExist) {
		s.saved[rp] = savedFile{}
		s.order = append(s.order, rp)
		return nil
	}
	if err != nil {
		return err
	}
	data, err := os.ReadFile(host)
	if err != nil {
		return err
	}
	sf := savedFile{exists: true, data: data, mode: fi.Mode().Perm()}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		sf.owner = Owner{int(st.Uid), int(st.Gid)}
	}
	s.saved[rp] = sf
	s.order = append(s.order, rp)
	return nil
}

// Restore puts every saved file back, newest first, and returns the first error.
func (s *Snapshot) Restore() error {
	var first error
	for i := len(s.order) - 1; i >= 0; i-- {
		p := s.order[i]
		sf := s.saved[p]
		var err error
		if sf.exists {
			err = writeAtomic(s.r.HostPath(p), sf.data, sf.mode, sf.owner)
		} else {
			err = s.r.Remove(p)
		}
		if err != nil && first == nil {
			first = err
		}
	}
	return first
}
