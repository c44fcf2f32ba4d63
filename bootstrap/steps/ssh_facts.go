package steps

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"sync"
	"syscall"

	"github.com/hardbake/hardbake/bootstrap/sshcrypto"
)

// SSHDFactsFile records what the bake learned from the image's sshd that
// depends on nothing but the sshd binary: its `sshd -V` banner and the
// algorithm lists it accepted for the profile. The first boot of every
// machine started from the image runs the same binary, so while the
// binary's sha256 matches it takes these answers instead of starting sshd
// twice more (`sshd -V` and the algorithm probe: about a third of a first
// boot). A different binary (openssh-server upgraded after the bake) is
// asked again, as if the file were not there. sshd's own check of the
// written configuration (`sshd -T`) always runs.
const SSHDFactsFile = "/var/lib/hardbake/sshd-facts.json"

// SSHDFacts is the content of SSHDFactsFile.
type SSHDFacts struct {
	Comment string `json:"comment"`
	Binary  string `json:"binary"`
	SHA256  string `json:"sha256"`
	// Banner is what `sshd -V` printed.
	Banner string `json:"banner"`
	// Accepted are algorithm lists (sshd keyword -> names) one `sshd -t -o
	// Keyword=list` accepted: every name in them is known to this binary.
	Accepted sshcrypto.Lists `json:"accepted,omitempty"`
	// File is the binary's identity on its file system when recorded.
	// While inode, size, modification and change time all match, the file
	// has not been written or replaced since (any write or rename moves the
	// change time, which no program can set back), so first boot need not
	// hash it; on another file system (a file-level copy) it is hashed.
	File *FileID `json:"file,omitempty"`
}

// FileID identifies a file on its file system without reading it.
type FileID struct {
	Inode   uint64 `json:"inode"`
	Size    int64  `json:"size"`
	MtimeNS int64  `json:"mtime_ns"`
	CtimeNS int64  `json:"ctime_ns"`
}

// fileID is the identity of an in-root file (nil where the root is not a
// directory on this host).
func fileID(env *Env, p string) *FileID {
	fi, err := env.Root.Stat(p)
	if err != nil {
		return nil
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return nil
	}
	return &FileID{Inode: st.Ino, Size: st.Size, MtimeNS: st.Mtim.Nano(), CtimeNS: st.Ctim.Nano()}
}

const sshdFactsComment = "Written by hardbake bake: answers of this image's sshd (same sha256), reused by hardbake firstboot."

// sshdSums remembers the sha256 of sshd binaries by file identity (device,
// inode, size, modification and change time), so the steps of one run hash
// a binary once, and again only when it was replaced.
var sshdSums sync.Map // identity -> *binarySum

type binarySum struct {
	once sync.Once
	sum  string
	err  error
}

// sshdBinarySum is the sha256 of the target's sshd binary.
func sshdBinarySum(env *Env) (string, error) {
	fi, err := env.Root.Stat(SSHDBinary)
	if err != nil {
		return "", err
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fileSum(env, SSHDBinary)
	}
	key := fmt.Sprint(env.Root.HostPath(SSHDBinary), st.Dev, st.Ino, st.Size, st.Mtim, st.Ctim)
	v, _ := sshdSums.LoadOrStore(key, &binarySum{})
	b := v.(*binarySum)
	b.once.Do(func() { b.sum, b.err = fileSum(env, SSHDBinary) })
	return b.sum, b.err
}

// PrefetchSSHDFacts starts checking the recorded facts against the target's
// sshd binary in the background (hashing it when its file identity moved),
// so that the ssh step finds the answer ready; first boot starts it before
// reading host data.
func PrefetchSSHDFacts(env *Env) {
	if env.Root.Exists(SSHDFactsFile) {
		go recordedSSHDFacts(env)
	}
}

// fileSum is the sha256 of a file in the root, read in blocks.
func fileSum(env *Env, p string) (string, error) {
	f, err := env.Root.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.CopyBuffer(h, f, make([]byte, 64<<10)); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// recordedSSHDFacts returns the recorded facts when they are about the
// target's sshd binary as it is now.
func recordedSSHDFacts(env *Env) (*SSHDFacts, bool) {
	data, err := env.Root.ReadFile(SSHDFactsFile)
	if err != nil {
		return nil, false
	}
	f, ok := parseSSHDFacts(data)
	if !ok {
		return nil, false
	}
	if f.File != nil {
		if id := fileID(env, SSHDBinary); id != nil && *id == *f.File {
			return f, true
		}
	}
	sum, err := sshdBinarySum(env)
	if err != nil || sum != f.SHA256 {
		return nil, false
	}
	return f, true
}

// parsedFacts keeps each facts text decoded once per process (the prefetch,
// the ssh step's plan and its check all read the file): text -> *SSHDFacts
// or nil. The decoded facts are never modified.
var parsedFacts sync.Map

// parseSSHDFacts decodes a facts file; false when it is not facts about
// SSHDBinary.
func parseSSHDFacts(data []byte) (*SSHDFacts, bool) {
	if v, ok := parsedFacts.Load(string(data)); ok {
		f := v.(*SSHDFacts)
		return f, f != nil
	}
	f := new(SSHDFacts)
	if json.Unmarshal(data, f) != nil || f.Binary != SSHDBinary || f.SHA256 == "" || f.Banner == "" {
		f = nil
	}
	parsedFacts.Store(string(data), f)
	return f, f != nil
}

// acceptedAll reports whether every name of lists is in an accepted list of
// the same keyword.
func (f *SSHDFacts) acceptedAll(lists sshcrypto.Lists) bool {
	for kind, names := range lists {
		for _, n := range names {
			if !slices.Contains(f.Accepted[kind], n) {
				return false
			}
		}
	}
	return true
}

// accept adds lists to Accepted (every name once, in order).
func (f *SSHDFacts) accept(lists sshcrypto.Lists) {
	for kind, names := range lists {
		for _, n := range names {
			if !slices.Contains(f.Accepted[kind], n) {
				f.Accepted[kind] = append(f.Accepted[kind], n)
			}
		}
	}
}

// sshdFactsAction plans recording the facts for first boot where the
// target's sshd can run; nil where it cannot (first boot then asks sshd).
// Lists are recorded only when sshd accepted all of them together.
func sshdFactsAction(ctx context.Context, env *Env) (*Action, error) {
	if !hasSSHD(env) {
		return nil, nil
	}
	old, haveOld := recordedSSHDFacts(env)
	banner, ok := sshdBanner(ctx, env, old)
	if !ok {
		return nil, nil
	}
	sum, err := sshdBinarySum(env)
	if err != nil {
		return nil, err
	}
	f := SSHDFacts{Comment: sshdFactsComment, Binary: SSHDBinary, SHA256: sum, Banner: banner, Accepted: sshcrypto.Lists{}, File: fileID(env, SSHDBinary)}
	if p := env.Profile.SSH; p.Crypto != sshcrypto.Off && p.Crypto != "" {
		v, _ := sshcrypto.ParseBanner(banner)
		lists := nonEmpty(sshcrypto.Choose(p.Crypto, v, p.HostKeyTypes, p.CryptoRequire))
		if args := probeArgs(lists); len(args) > 0 && !(haveOld && old.acceptedAll(lists)) {
			if _, err := sshdTest(ctx, env, "-t", args...); err != nil {
				lists = nil // not all known (or the configuration is broken): record none
			}
		}
		f.accept(lists)
	}
	if haveOld {
		// What an earlier bake recorded for this binary stays true.
		f.accept(old.Accepted)
	}
	data, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return nil, err
	}
	return WriteFile(env.Root, SSHDFactsFile, append(data, '\n'), 0o644, "sshd's answers for first boot (sshd -V, accepted algorithms), keyed by the binary's sha256")
}
