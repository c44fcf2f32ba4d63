package sshdconfig

import "strings"

// The tokenizer copies sshd's, rule for rule, because a hardening tool that
// reads "PasswordAuthentication=no" or a quoted argument differently from sshd
// would report a setting sshd does not have.

// whitespace is sshd's WHITESPACE set for keyword splitting (misc.c).
const whitespace = " \t\r\n"

// splitLine turns one raw line into keyword and arguments as sshd's
// process_server_config_line does. keyword is "" for blank and comment lines.
func splitLine(raw string) (keyword string, args []string, err error) {
	// load_server_config strips leading " \t\r"; the line parser strips
	// trailing whitespace and form feeds.
	line := strings.TrimLeft(raw, " \t\r")
	line = strings.TrimRight(line, whitespace+"\f")
	if line == "" {
		return "", nil, nil
	}
	tok, rest, more, ok := strdelim(line)
	if !ok {
		// An unmatched quote in the keyword makes sshd's strdelim return
		// NULL, and sshd then skips the line silently. Verified with sshd 9.2:
		// `"Port 22` is ignored, not an error.
		return "", nil, nil
	}
	if tok == "" && more {
		// A line starting with '=' yields an empty first token; sshd takes the next.
		if tok, rest, more, ok = strdelim(rest); !ok {
			return "", nil, nil
		}
	}
	if tok == "" || tok[0] == '#' {
		return "", nil, nil
	}
	keyword = strings.ToLower(tok)
	if !more || rest == "" {
		return keyword, nil, ErrNoArgument
	}
	args, err = argvSplit(rest)
	return keyword, args, err
}

// strdelim mirrors misc.c strdelim_internal(s, split_equals=1): the token ends
// at whitespace, a quote, or one '='; "key = value" and "key=value" both work.
// more is false when the C code would set *s = NULL (end of line reached); ok
// is false for an unmatched quote.
func strdelim(s string) (tok, rest string, more, ok bool) {
	i := strings.IndexAny(s, whitespace+`"=`)
	if i < 0 {
		return s, "", false, true
	}
	if s[i] == '"' {
		// The opening quote is deleted and the token runs to the next quote.
		j := strings.IndexByte(s[i+1:], '"')
		if j < 0 {
			return "", "", false, false
		}
		tok = s[:i] + s[i+1:i+1+j]
		return tok, strings.TrimLeft(s[i+2+j:], whitespace), true, true
	}
	sawEquals := s[i] == '='
	tok = s[:i]
	rest = strings.TrimLeft(s[i+1:], whitespace)
	// Only one '=' may separate key and value: "key = value" skips it here,
	// "key==value" leaves the second '=' in the value.
	if !sawEquals && strings.HasPrefix(rest, "=") {
		rest = strings.TrimLeft(rest[1:], whitespace)
	}
	return tok, rest, true, true
}

// argvSplit mirrors misc.c argv_split(s, ..., terminate_on_comment=1), which
// sshd applies to everything after the keyword: tokens split on space and tab,
// single or double quotes group (and are removed), \" \' \\ and (unquoted)
// "\ " are escapes, and a '#' starting a token ends the line.
func argvSplit(s string) ([]string, error) {
	var args []string
	for i := 0; i < len(s); i++ {
		if s[i] == ' ' || s[i] == '\t' {
			continue
		}
		if s[i] == '#' {
			break
		}
		var arg strings.Builder
		var quote byte
	scan:
		for ; i < len(s); i++ {
			c := s[i]
			switch {
			case c == '\\' && i+1 < len(s) &&
				(s[i+1] == '\'' || s[i+1] == '"' || s[i+1] == '\\' || (quote == 0 && s[i+1] == ' ')):
				i++
				arg.WriteByte(s[i])
			case quote == 0 && (c == ' ' || c == '\t'):
				break scan
			case quote == 0 && (c == '"' || c == '\''):
				quote = c
			case quote != 0 && c == quote:
				quote = 0
			default:
				arg.WriteByte(c)
			}
		}
		if quote != 0 {
			return nil, ErrQuote
		}
		args = append(args, arg.String())
	}
	return args, nil
}
