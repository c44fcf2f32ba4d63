package steps

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/hardbake/hardbake/bootstrap/root"
)

// rsyslog creates the files it writes with $FileCreateMode (default 0644):
// 0640 keeps them from other users. rsyslog applies the value to the
// actions defined after it, so ours goes at the top of the main file when
// no file declares one; CIS's check (rsyslog_filecreatemode) wants exactly
// one declaration, 0640 or stricter, in rsyslog.conf or rsyslog.d/*.conf.

// RsyslogConf is rsyslog's main configuration file.
const RsyslogConf = "/etc/rsyslog.conf"

var fileCreateModeLine = regexp.MustCompile(`^(\s*\$FileCreateMode\s+)([0-7]+)(.*)$`)

// fileCreateMode is one $FileCreateMode declaration.
type fileCreateMode struct {
	Path string
	Line int
	Mode string
}

// strictEnough reports whether an octal mode grants nothing beyond 0640.
func strictEnough(mode string) bool {
	m, err := strconv.ParseUint(mode, 8, 32)
	return err == nil && m&^0o640 == 0
}

// fileCreateModes lists the declarations in the files CIS's check reads.
func fileCreateModes(r *root.Root) []fileCreateMode {
	files := []string{RsyslogConf}
	more, _ := r.Glob("/etc/rsyslog.d/*.conf")
	files = append(files, more...)
	var out []fileCreateMode
	for _, f := range files {
		data, err := r.ReadFile(f)
		if err != nil {
			continue
		}
		for i, l := range strings.Split(string(data), "\n") {
			if m := fileCreateModeLine.FindStringSubmatch(l); m != nil {
				out = append(out, fileCreateMode{f, i + 1, m[2]})
			}
		}
	}
	return out
}

// setFileCreateMode returns rsyslog.conf's text with every looser
// $FileCreateMode narrowed to 0640 or stricter (mode & 0640), or, when
// declared nowhere (elsewhere: some rsyslog.d file declares it), with
// "$FileCreateMode 0640" added after the file's leading comments, before
// any action.
func setFileCreateMode(text string, elsewhere bool) string {
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	found := false
	for i, l := range lines {
		m := fileCreateModeLine.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		found = true
		if !strictEnough(m[2]) {
			v, err := strconv.ParseUint(m[2], 8, 32)
			if err != nil {
				v = 0o640
			}
			lines[i] = m[1] + fmt.Sprintf("%04o", v&0o640) + m[3]
		}
	}
	if found || elsewhere {
		return strings.Join(lines, "\n") + "\n"
	}
	at := 0
	for at < len(lines) && (strings.HasPrefix(strings.TrimSpace(lines[at]), "#") || strings.TrimSpace(lines[at]) == "") {
		at++
	}
	add := []string{"# Files rsyslog creates are readable by owner and group only (hardbake, CIS).", "$FileCreateMode 0640", ""}
	if text == "" {
		lines = nil
		at = 0
	}
	out := append(append(append([]string{}, lines[:at]...), add...), lines[at:]...)
	return strings.Join(out, "\n") + "\n"
}
