package host

import (
	"bytes"
	"strings"

	"github.com/hardbake/hardbake/bootstrap/profile"
	"gopkg.in/yaml.v3"
)

// MaxSize bounds host data and user-data: real ones are a few kilobytes.
const MaxSize = 1 << 20

// Decode parses host data (a whole YAML document) and validates it. With a
// target, names, groups and shells are also checked against its /etc files;
// without one (e.g. building a seed image), only the rules that hold on
// every supported distribution apply.
func Decode(data []byte, source string, t *Target) (*Host, error) {
	if len(data) > MaxSize {
		return nil, errorf(source, "is %d bytes; host data is at most %d", len(data), MaxSize)
	}
	n, problems := profile.ParseYAML(data, "host")
	if problems != nil {
		return nil, problemsError(source, problems)
	}
	return decodeNode(n, "", source, t)
}

// CloudConfigKey is the key of host data inside #cloud-config user-data.
// cloud-init ignores keys it does not know, but from 23.4 on warns about
// them and calls the boot degraded; `hardbake seed` uses SeedHostFile.
const CloudConfigKey = "hardbake"

// FromUserData finds host data under the `hardbake:` key of NoCloud
// #cloud-config user-data. It returns nil and no error when the user-data
// is not #cloud-config (a script, MIME multipart) or has no such key.
// Field paths and lines refer to the user-data ("hardbake.user.name (line 7)").
func FromUserData(data []byte, source string, t *Target) (*Host, error) {
	if len(data) > MaxSize {
		return nil, errorf(source, "is %d bytes; user-data is at most %d", len(data), MaxSize)
	}
	first, _, _ := bytes.Cut(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")), []byte("\n"))
	if strings.TrimRight(string(first), " \t\r") != "#cloud-config" {
		return nil, nil
	}
	n, problems := profile.ParseYAML(data, "user-data")
	if problems != nil {
		return nil, problemsError(source, problems)
	}
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	if n.Kind != yaml.MappingNode {
		return nil, nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == CloudConfigKey {
			return decodeNode(n.Content[i+1], CloudConfigKey, source, t)
		}
	}
	return nil, nil
}

func decodeNode(n *yaml.Node, prefix, source string, t *Target) (*Host, error) {
	h := &Host{Source: source}
	lines, problems := profile.DecodeNode(n, h, prefix, "host")
	v := validator{lines: lines, problems: problems, prefix: prefix}
	v.host(h, t)
	if err := problemsError(source, v.problems); err != nil {
		return nil, err
	}
	return h, nil
}
