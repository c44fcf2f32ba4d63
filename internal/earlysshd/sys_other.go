//go:build !amd64 && !arm64

package earlysshd

// sysMemfdCreate is unknown here: no early sshd, firstboot runs sshd itself.
const sysMemfdCreate = -1
