package pkgfiles

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// flagArg is what follows a flag in the usage: how bash completes its value.
type flagArg struct {
	flag  string
	value string // "" (no value), "dir", "file", "steps", "none", or "words:a b c"
}

// flagRE finds flags in a synopsis or description: "--root", "-o".
var flagRE = regexp.MustCompile(`(?:^|[\s\[(])(--?[a-z][a-z-]*)`)

// commandFlags are the flags of each command name with their values, read
// from its synopses; "[same flags as bake]" copies bake's.
func commandFlags(u Usage) map[string][]flagArg {
	out := map[string][]flagArg{}
	for _, c := range u.Commands {
		if m := regexp.MustCompile(`same flags as (\w+)`).FindStringSubmatch(c.Synopsis); m != nil {
			out[c.Name] = append(out[c.Name], out[m[1]]...)
		}
		fields := strings.Fields(strings.NewReplacer("[", " ", "]", " ", "(", " ", ")", " ").Replace(c.Synopsis))
		for i, f := range fields {
			if !strings.HasPrefix(f, "-") {
				continue
			}
			a := flagArg{flag: f}
			if i+1 < len(fields) && !strings.HasPrefix(fields[i+1], "-") {
				a.value = valueKind(fields[i+1])
			}
			out[c.Name] = addFlag(out[c.Name], a)
		}
		// Flags only named in a description ("-o: ...") take no known value.
		for _, m := range flagRE.FindAllStringSubmatch(c.Description, -1) {
			out[c.Name] = addFlag(out[c.Name], flagArg{flag: strings.TrimSuffix(m[1], ":")})
		}
	}
	return out
}

func addFlag(list []flagArg, a flagArg) []flagArg {
	if slices.ContainsFunc(list, func(x flagArg) bool { return x.flag == a.flag }) {
		return list
	}
	return append(list, a)
}

// valueKind maps the usage's placeholder to a completion.
func valueKind(placeholder string) string {
	switch {
	case placeholder == "DIR":
		return "dir"
	case placeholder == "FILE" || placeholder == "IMAGE":
		return "file"
	case strings.HasPrefix(placeholder, "STEP"):
		return "steps"
	case strings.Contains(placeholder, "|"):
		return "words:" + strings.ReplaceAll(placeholder, "|", " ")
	}
	return "none" // ID, NAME, N: nothing to offer
}

// BashCompletion is the bash completion script for hardbake: commands and
// their flags from the usage, step names (for --only and --skip, comma
// lists) from steps, files and directories where the usage says FILE or DIR.
func BashCompletion(u Usage, steps []string) string {
	flags := commandFlags(u)
	var b strings.Builder
	b.WriteString(`# bash completion for hardbake(1): generated from ` + "`hardbake help`" + ` and the
# step names when the package was built; do not edit.

# _hardbake_steps completes the last name of a comma-separated step list.
_hardbake_steps()
{
	local cur=$1 prefix="" last=$1
	case $cur in
	*,*) prefix=${cur%,*},; last=${cur##*,} ;;
	esac
	COMPREPLY=($(compgen -P "$prefix" -W '` + strings.Join(steps, " ") + `' -- "$last"))
}

_hardbake()
{
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
	COMPREPLY=()
	if [ "$COMP_CWORD" -eq 1 ]; then
		COMPREPLY=($(compgen -W '` + strings.Join(append(u.Names(), "help"), " ") + `' -- "$cur"))
		return
	fi
	case "${COMP_WORDS[1]} $prev" in
`)
	byKind := map[string][]string{}
	var kinds []string
	for _, name := range u.Names() {
		for _, a := range flags[name] {
			if a.value == "" {
				continue
			}
			if _, seen := byKind[a.value]; !seen {
				kinds = append(kinds, a.value)
			}
			byKind[a.value] = append(byKind[a.value], fmt.Sprintf("'%s %s'", name, a.flag))
		}
	}
	for _, k := range kinds {
		b.WriteString("\t" + strings.Join(byKind[k], "|") + ")\n\t\t")
		switch {
		case k == "dir":
			b.WriteString(`COMPREPLY=($(compgen -d -- "$cur"))`)
		case k == "file":
			b.WriteString(`COMPREPLY=($(compgen -f -- "$cur"))`)
		case k == "steps":
			b.WriteString(`_hardbake_steps "$cur"`)
		case strings.HasPrefix(k, "words:"):
			b.WriteString(`COMPREPLY=($(compgen -W '` + strings.TrimPrefix(k, "words:") + `' -- "$cur"))`)
		default:
			b.WriteString(":")
		}
		b.WriteString("\n\t\treturn\n\t\t;;\n")
	}
	b.WriteString("\tesac\n\tcase ${COMP_WORDS[1]} in\n")
	for _, name := range u.Names() {
		var names []string
		for _, a := range flags[name] {
			names = append(names, a.flag)
		}
		if len(names) == 0 {
			continue
		}
		fmt.Fprintf(&b, "\t%s)\n\t\tCOMPREPLY=($(compgen -W '%s' -- \"$cur\"))\n\t\t;;\n", name, strings.Join(names, " "))
	}
	b.WriteString("\tesac\n}\n\ncomplete -F _hardbake hardbake\n")
	return b.String()
}
