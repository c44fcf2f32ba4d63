package steps

import (
	"path"
	"strings"

	"github.com/hardbake/hardbake/bootstrap/root"
	"github.com/hardbake/hardbake/internal/names"
)

// aptConfParts is where apt reads its configuration fragments.
const aptConfParts = "/etc/apt/apt.conf.d"

// offlineAptConfig computes what `apt-config dump` would print for the
// keys the checks read, from the files alone (an image, where apt cannot
// run): the fragments in name order, then /etc/apt/apt.conf; later scalar
// values win, list items ("Key::") accumulate, #clear removes. The result
// has aptConfigDump's shape, keyed by the spelling the checks use.
func offlineAptConfig(r *root.Root) map[string][]string {
	var files []string
	entries, _ := r.ReadDir(aptConfParts)
	for _, e := range entries {
		n := e.Name()
		// apt.conf(5): it reads only names of letters, digits, '-', '_'
		// and '.', with no extension or ".conf" (not .dpkg-old, .ucf-dist).
		if !names.AptPart(n) || (strings.Contains(n, ".") && path.Ext(n) != ".conf") {
			continue
		}
		files = append(files, path.Join(aptConfParts, n))
	}
	files = append(files, "/etc/apt/apt.conf")
	c := aptConf{vals: map[string][]string{}, spelling: map[string]string{}}
	for _, f := range files {
		if data, err := r.ReadFile(f); err == nil {
			c.parse(string(data))
		}
	}
	out := map[string][]string{}
	for k, v := range c.vals {
		out[c.spelling[k]] = v
	}
	return out
}

// aptConf holds values by lower-cased key (apt's keys ignore case).
type aptConf struct {
	vals     map[string][]string
	spelling map[string]string
}

func (c *aptConf) set(key, val string, list bool) {
	lk := strings.ToLower(key)
	if _, ok := c.spelling[lk]; !ok {
		c.spelling[lk] = key
	}
	if list {
		c.vals[lk] = append(c.vals[lk], val)
	} else {
		c.vals[lk] = []string{val}
	}
}

func (c *aptConf) clear(key string) {
	lk := strings.ToLower(strings.TrimSuffix(key, "::"))
	for k := range c.vals {
		if k == lk || strings.HasPrefix(k, lk+"::") {
			delete(c.vals, k)
		}
	}
}

// aptTokens splits apt.conf text into words, quoted strings, '{', '}', ';'
// and "#clear", dropping //, /* */ and other # comments.
func aptTokens(text string) []string {
	var toks []string
	for i := 0; i < len(text); {
		ch := text[i]
		switch {
		case ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r':
			i++
		case strings.HasPrefix(text[i:], "//"):
			for i < len(text) && text[i] != '\n' {
				i++
			}
		case strings.HasPrefix(text[i:], "/*"):
			if j := strings.Index(text[i+2:], "*/"); j >= 0 {
				i += j + 4
			} else {
				i = len(text)
			}
		case ch == '#':
			j := strings.IndexByte(text[i:], '\n')
			if j < 0 {
				j = len(text) - i
			}
			if line := text[i : i+j]; strings.HasPrefix(line, "#clear") {
				toks = append(toks, "#clear")
				i += len("#clear")
				continue
			}
			i += j
		case ch == '{' || ch == '}' || ch == ';':
			toks = append(toks, string(ch))
			i++
		case ch == '"':
			j := strings.IndexByte(text[i+1:], '"')
			if j < 0 { // unterminated: the rest of the text
				toks = append(toks, text[i:]+`"`)
				i = len(text)
				continue
			}
			toks = append(toks, text[i:i+j+2])
			i += j + 2
		default:
			j := i
			for j < len(text) && !strings.ContainsRune(" \t\r\n{};\"", rune(text[j])) {
				j++
			}
			toks = append(toks, text[i:j])
			i = j
		}
	}
	return toks
}

func unquote(s string) (string, bool) {
	if strings.HasPrefix(s, `"`) {
		return strings.TrimSuffix(strings.TrimPrefix(s, `"`), `"`), true
	}
	return s, false
}

func (c *aptConf) parse(text string) {
	toks := aptTokens(text)
	var stack []string // enclosing block keys
	prefix := func() string {
		if len(stack) == 0 {
			return ""
		}
		return strings.Join(stack, "::") + "::"
	}
	for i := 0; i < len(toks); {
		t := toks[i]
		switch {
		case t == ";":
			i++
		case t == "}":
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
			i++
		case t == "#clear":
			for i++; i < len(toks) && toks[i] != ";"; i++ {
				c.clear(prefix() + toks[i])
			}
		case t == "{":
			i++ // an anonymous block: not used by apt's own files
		default:
			v, quoted := unquote(t)
			next := ""
			if i+1 < len(toks) {
				next = toks[i+1]
			}
			switch {
			case quoted:
				// A bare value inside a block is a list item of the block.
				c.set(prefix(), v, true)
				i++
			case next == "{":
				stack = append(stack, strings.TrimSuffix(t, "::"))
				i += 2
			case strings.HasSuffix(t, "::") && next != "" && next != ";":
				val, _ := unquote(next)
				c.set(prefix()+t, val, true)
				i += 2
			case next != "" && next != ";" && next != "}":
				val, _ := unquote(next)
				c.set(prefix()+t, val, false)
				i += 2
			default:
				i++
			}
		}
	}
}
