package sshdconfig

// FS is how the evaluator reads files; paths are absolute in-root paths like
// "/etc/ssh/sshd_config", so the same Load works on /, a chroot or an image.
// bootstrap/root.Root satisfies it.
type FS interface {
	ReadFile(name string) ([]byte, error)
	// Glob takes an absolute pattern and returns the matches sorted lexically,
	// like glob(3). Load sorts again and drops dot-files that a '*' would not
	// match in glob(3), so an FS built on path.Match is good enough.
	Glob(pattern string) ([]string, error)
}
