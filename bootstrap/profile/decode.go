package profile

import (
	"fmt"
	"os"
	"reflect"
	"sort"
	"strings"

	"github.com/hardbake/hardbake/bootstrap"
	"gopkg.in/yaml.v3"
)

// Problem is one thing wrong with a profile.
type Problem struct {
	Path string // dotted field path, e.g. "ssh.ports[1]"
	Line int    // 1-based YAML line, 0 when unknown
	Msg  string
}

func (p Problem) String() string {
	if p.Line > 0 {
		return fmt.Sprintf("%s (line %d): %s", p.Path, p.Line, p.Msg)
	}
	return fmt.Sprintf("%s: %s", p.Path, p.Msg)
}

// Error lists every problem found in a profile. It wraps bootstrap.ErrInvalid.
type Error struct {
	Source   string // file name, or "" for inline YAML
	Problems []Problem
}

func (e *Error) Error() string {
	var b strings.Builder
	src := e.Source
	if src == "" {
		src = "profile"
	}
	fmt.Fprintf(&b, "%s: %d problem(s):", src, len(e.Problems))
	for _, p := range e.Problems {
		b.WriteString("\n  ")
		b.WriteString(p.String())
	}
	return b.String()
}

// Unwrap makes errors.Is(err, bootstrap.ErrInvalid) true.
func (e *Error) Unwrap() error { return bootstrap.ErrInvalid }

// decoder walks a yaml.Node tree against Go struct types, so unknown keys,
// type mismatches and duplicates are all collected (yaml.v3 stops at the first)
// and every value's line is remembered for later semantic checks.
type decoder struct {
	problems []Problem
	lines    map[string]int
}

func (d *decoder) add(path string, line int, format string, args ...any) {
	d.problems = append(d.problems, Problem{Path: path, Line: line, Msg: fmt.Sprintf(format, args...)})
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func (d *decoder) decode(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind == 0 {
		return // empty document
	}
	if n.Kind == yaml.DocumentNode {
		if len(n.Content) == 0 {
			return
		}
		n = n.Content[0]
	}
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	d.lines[path] = n.Line
	if n.Tag == "!!null" {
		return // "key:" with no value keeps the default
	}
	name := path
	if name == "" {
		name = "profile"
	}
	switch v.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			d.add(name, n.Line, "must be a mapping of keys, got %s", describe(n))
			return
		}
		fields := map[string]int{}
		var names []string
		for i := 0; i < v.NumField(); i++ {
			tag := strings.Split(v.Type().Field(i).Tag.Get("yaml"), ",")[0]
			if tag == "" || tag == "-" {
				continue
			}
			fields[tag] = i
			names = append(names, tag)
		}
		sort.Strings(names)
		seen := map[string]bool{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, val := n.Content[i], n.Content[i+1]
			kp := join(path, k.Value)
			if seen[k.Value] {
				d.add(kp, k.Line, "duplicate key")
				continue
			}
			seen[k.Value] = true
			idx, ok := fields[k.Value]
			if !ok {
				d.add(kp, k.Line, "unknown key; allowed here: %s", strings.Join(names, ", "))
				continue
			}
			d.decode(val, v.Field(idx), kp)
		}
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			d.add(name, n.Line, "must be a list, got %s", describe(n))
			return
		}
		s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
		for i, item := range n.Content {
			d.decode(item, s.Index(i), fmt.Sprintf("%s[%d]", path, i))
		}
		v.Set(s)
	default:
		if n.Kind != yaml.ScalarNode {
			d.add(name, n.Line, "must be %s, got %s", kindName(v.Kind()), describe(n))
			return
		}
		tmp := reflect.New(v.Type())
		if err := n.Decode(tmp.Interface()); err != nil {
			d.add(name, n.Line, "must be %s, got %q", kindName(v.Kind()), n.Value)
			return
		}
		v.Set(tmp.Elem())
	}
}

func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	default:
		return fmt.Sprintf("%q", n.Value)
	}
}

func kindName(k reflect.Kind) string {
	switch k {
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int64, reflect.Int32, reflect.Uint16:
		return "an integer"
	case reflect.String:
		return "a string"
	default:
		return "a " + k.String()
	}
}

// Parse reads a profile on top of the defaults and validates it.
func Parse(data []byte) (*Profile, error) {
	return decodeOnto(Default(), data, "")
}

// Load reads and parses a profile file; problems name the file.
func Load(file string) (*Profile, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("%w: profile: %v", bootstrap.ErrInvalid, err)
	}
	return decodeOnto(Default(), data, file)
}

// bakedHeader starts the profile file the firstboot step writes.
const bakedHeader = "# The profile this image was baked with; hardbake firstboot reads it.\n"

// Baked is p as the image keeps it for first boot (/etc/hardbake/profile.yaml).
func Baked(p *Profile) ([]byte, error) {
	data, err := yaml.Marshal(p)
	if err != nil {
		return nil, err
	}
	return append([]byte(bakedHeader), data...), nil
}

// decodeOnto decodes YAML over p (which holds the defaults) and validates the result.
func decodeOnto(p *Profile, data []byte, source string) (*Profile, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		line := 0
		msg := strings.TrimPrefix(err.Error(), "yaml: ")
		fmt.Sscanf(msg, "line %d:", &line)
		return nil, &Error{Source: source, Problems: []Problem{{Path: "profile", Line: line, Msg: "not valid YAML: " + msg}}}
	}
	d := &decoder{lines: map[string]int{}}
	d.decode(&root, reflect.ValueOf(p).Elem(), "")
	v := validator{lines: d.lines, problems: d.problems}
	v.profile(p)
	if len(v.problems) > 0 {
		return nil, &Error{Source: source, Problems: v.problems}
	}
	return p, nil
}
