// Package sshdconfig reads OpenSSH sshd_config files the way sshd does and edits
// them without disturbing what their owners wrote.
//
// Three layers, each usable alone:
//
//   - Parse splits one file into Lines with sshd's own tokenizer rules
//     (key=value, quotes, '#' comments at the start of a token), keeping every
//     line's raw text so edits can be byte-exact.
//   - Load follows Include directives through an FS and computes the effective
//     global values with sshd's first-value-wins rule, plus the keywords that
//     accumulate (Port, ListenAddress, HostKey, AllowUsers, ...). Match blocks
//     are collected, not evaluated: they depend on the connecting user.
//   - SetManagedBlock, DisableLines and RestoreDisabled are pure text
//     transforms; a thin writer elsewhere stores their result.
//
// The semantics follow OpenSSH 9.2's servconf.c (Debian 12) and were checked
// against a real "sshd -T"; see sshd_test.go, which repeats that comparison
// whenever sshd is installed.
package sshdconfig
