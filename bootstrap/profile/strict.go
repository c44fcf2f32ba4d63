package profile

import (
	"fmt"
	"reflect"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// ParseYAML parses data into a node tree. A syntax error becomes one Problem
// at its line, named top ("host", "user-data"), so every hardbake input
// reports YAML mistakes the same way.
func ParseYAML(data []byte, top string) (*yaml.Node, []Problem) {
	var n yaml.Node
	if err := yaml.Unmarshal(data, &n); err != nil {
		line := 0
		msg := strings.TrimPrefix(err.Error(), "yaml: ")
		fmt.Sscanf(msg, "line %d:", &line)
		return nil, []Problem{{Path: top, Line: line, Msg: "not valid YAML: " + msg}}
	}
	return &n, nil
}

// DecodeNode decodes n onto v (a pointer to a struct with yaml tags) with
// the profile's strict rules: unknown keys, duplicates and type mismatches
// are all collected, each with its field path and line. path prefixes every
// field path (e.g. "hardbake" for a key inside cloud-config user-data); top
// names the whole document when path is empty. The returned map holds the
// line of every decoded path, for semantic checks that come later.
func DecodeNode(n *yaml.Node, v any, path, top string) (map[string]int, []Problem) {
	d := &decoder{lines: map[string]int{}}
	d.decode(n, reflect.ValueOf(v).Elem(), path)
	if path == "" && top != "profile" {
		for i := range d.problems {
			if d.problems[i].Path == "profile" {
				d.problems[i].Path = top
			}
		}
	}
	return d.lines, d.problems
}

func (v *validator) hostKeyTypes(types []string) {
	if len(types) == 0 {
		v.add("ssh.host_key_types", "needs at least one of %s", strings.Join(HostKeyTypes, ", "))
	}
	for i, t := range types {
		path := fmt.Sprintf("ssh.host_key_types[%d]", i)
		v.oneOf(path, t, HostKeyTypes)
		if slices.Index(types, t) < i {
			v.add(path, "%q is listed twice", t)
		}
	}
}
