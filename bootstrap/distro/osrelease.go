package distro

import (
	"fmt"
	"strings"
)

// OSRelease holds the os-release(5) fields hardbake uses.
type OSRelease struct {
	ID              string
	IDLike          []string
	VersionID       string
	VersionCodename string
	PrettyName      string
}

// ParseOSRelease parses os-release(5): KEY=value lines, values optionally in
// single or double quotes with shell-style backslash escapes inside double quotes.
func ParseOSRelease(text string) (OSRelease, error) {
	var o OSRelease
	for i, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		key, val, ok := strings.Cut(line, "=")
		if !ok {
			return o, fmt.Errorf("os-release line %d: %q is not KEY=value", i+1, line)
		}
		v, err := unquote(val)
		if err != nil {
			return o, fmt.Errorf("os-release line %d: %v", i+1, err)
		}
		switch key {
		case "ID":
			o.ID = strings.ToLower(v)
		case "ID_LIKE":
			o.IDLike = strings.Fields(strings.ToLower(v))
		case "VERSION_ID":
			o.VersionID = v
		case "VERSION_CODENAME":
			o.VersionCodename = v
		case "PRETTY_NAME":
			o.PrettyName = v
		}
	}
	if o.ID == "" {
		// os-release(5): "If not set, a default of ID=linux may be used."
		o.ID = "linux"
	}
	return o, nil
}

func unquote(v string) (string, error) {
	if len(v) >= 1 && (v[0] == '"' || v[0] == '\'') {
		q := v[0]
		if len(v) < 2 || v[len(v)-1] != q {
			return "", fmt.Errorf("unterminated quote in %s", v)
		}
		v = v[1 : len(v)-1]
		if q == '\'' {
			return v, nil
		}
		var b strings.Builder
		for i := 0; i < len(v); i++ {
			if v[i] == '\\' && i+1 < len(v) && strings.ContainsRune("\"\\$`", rune(v[i+1])) {
				i++
			}
			b.WriteByte(v[i])
		}
		return b.String(), nil
	}
	return v, nil
}
