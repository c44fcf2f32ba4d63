package steps

import (
	"io/fs"
	"path"
	"sort"

	"github.com/hardbake/hardbake/bootstrap/root"
)

// overlay is a root seen with planned edits applied, so a step can evaluate
// "what would sshd read if we wrote this" before writing anything.
type overlay struct {
	r       *root.Root
	files   map[string][]byte
	removed map[string]bool
}

func newOverlay(r *root.Root) *overlay {
	return &overlay{r: r, files: map[string][]byte{}, removed: map[string]bool{}}
}

func (o *overlay) set(p string, data []byte) { o.files[p] = data; delete(o.removed, p) }
func (o *overlay) remove(p string)           { delete(o.files, p); o.removed[p] = true }

func (o *overlay) ReadFile(p string) ([]byte, error) {
	if o.removed[p] {
		return nil, &fs.PathError{Op: "open", Path: p, Err: fs.ErrNotExist}
	}
	if data, ok := o.files[p]; ok {
		return data, nil
	}
	return o.r.ReadFile(p)
}

func (o *overlay) Glob(pattern string) ([]string, error) {
	matches, err := o.r.Glob(pattern)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var out []string
	for _, m := range matches {
		if !o.removed[m] {
			out = append(out, m)
			seen[m] = true
		}
	}
	for p := range o.files {
		if ok, _ := path.Match(pattern, p); ok && !seen[p] {
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out, nil
}

// actions turns the overlay into write/remove actions for files that differ.
func (o *overlay) actions(summaries map[string]string) ([]Action, error) {
	var names []string
	for p := range o.files {
		names = append(names, p)
	}
	for p := range o.removed {
		names = append(names, p)
	}
	sort.Strings(names)
	var out []Action
	for _, p := range names {
		var a *Action
		var err error
		if o.removed[p] {
			a, err = RemoveFile(o.r, p, summaries[p])
		} else {
			a, err = WriteFile(o.r, p, o.files[p], 0o644, summaries[p])
		}
		if err != nil {
			return nil, err
		}
		if a != nil {
			out = append(out, *a)
		}
	}
	return out, nil
}
