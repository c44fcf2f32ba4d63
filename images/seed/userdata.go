package seed

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"

	"github.com/hardbake/hardbake/bootstrap"
	"github.com/hardbake/hardbake/bootstrap/host"
	"gopkg.in/yaml.v3"
)

// Input is what `hardbake seed` was given. Nil byte slices mean "not given".
type Input struct {
	Host       []byte // host data (YAML), required
	HostSource string // its file name, for messages

	UserData       []byte // nil: generate a #cloud-config (the host data travels beside it)
	UserDataSource string
	MetaData       []byte // nil: generate from InstanceID and Hostname
	MetaDataSource string
	NetworkConfig  []byte // nil: no network-config on the seed
	NetworkSource  string

	InstanceID string // "": derived from the contents
	Hostname   string // "": the host data's hostname, if any
}

// Seed is a validated seed: its files, the host data it carries, and
// warnings about given user-data that works against hardbake.
type Seed struct {
	Contents
	Host     *host.Host
	Warnings []string
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", bootstrap.ErrInvalid, fmt.Sprintf(format, args...))
}

// Build validates everything (host data with the same code and messages as
// `hardbake firstboot`) and returns the seed's files. Nothing is written.
func Build(in Input) (*Seed, error) {
	h, err := host.Decode(in.Host, in.HostSource, nil)
	if err != nil {
		return nil, err
	}
	s := &Seed{Host: h}
	if in.Hostname != "" {
		if _, err := host.Decode([]byte("hostname: "+strconv.Quote(in.Hostname)+"\n"), "--hostname", nil); err != nil {
			return nil, err
		}
		if h.Hostname != "" && h.Hostname != in.Hostname {
			return nil, invalid("--hostname %q differs from hostname %q in %s; give it once", in.Hostname, h.Hostname, in.HostSource)
		}
	}
	// The host data travels in its own file (host.SeedHostFile), exactly
	// as given: cloud-init ≥ 23.4 calls a boot with unknown user-data keys
	// degraded, so none goes into user-data.
	s.HostData = append([]byte{}, in.Host...)
	if in.UserData == nil {
		s.UserData = []byte(userDataHeader)
	} else {
		s.UserData, s.Warnings, err = givenUserData(in.UserData, in.UserDataSource, in.HostSource)
	}
	if err != nil {
		return nil, err
	}
	if in.NetworkConfig != nil {
		if err := yamlDocument(in.NetworkConfig, in.NetworkSource); err != nil {
			return nil, err
		}
		s.NetworkConfig = in.NetworkConfig
	}
	if in.MetaData != nil {
		if in.InstanceID != "" || in.Hostname != "" {
			return nil, invalid("--meta-data %s is written as given: --instance-id and --hostname go into it, not beside it", in.MetaDataSource)
		}
		if err := metaDataHasInstanceID(in.MetaData, in.MetaDataSource); err != nil {
			return nil, err
		}
		s.MetaData = in.MetaData
		return s, nil
	}
	id := in.InstanceID
	if id == "" {
		// A new instance-id makes cloud-init treat the next boot as a
		// first boot; deriving it from the contents does that exactly when
		// the data changes.
		sum := sha256.Sum256(append(append(append([]byte{}, s.HostData...), s.UserData...), s.NetworkConfig...))
		id = "iid-hardbake-" + hex.EncodeToString(sum[:6])
	} else if len(id) > 128 || strings.ContainsFunc(id, func(r rune) bool { return r <= ' ' || r == 0x7f || r == '"' || r == '\\' }) {
		return nil, invalid("--instance-id %q: use at most 128 printable characters without spaces or quotes", id)
	}
	name := in.Hostname
	if name == "" {
		name = h.Hostname
	}
	md := "instance-id: " + id + "\n"
	if name != "" {
		md += "local-hostname: " + name + "\n"
	}
	s.MetaData = []byte(md)
	return s, nil
}

const userDataHeader = `#cloud-config
# NoCloud user-data written by ` + "`hardbake seed`" + `. The host data (admin user,
# SSH keys, address family, port, host name) is in hardbake.yaml beside this
# file: hardbake firstboot applies it once, before sshd starts. It is not a
# key here because cloud-init (23.4 and later) reports a boot with unknown
# keys as degraded. Nothing here turns password or root login back on, and
# cloud-init's own host-key handling is left at its default.
# users: [] keeps cloud-init from creating its default user (debian, ubuntu,
# ...) with passwordless sudo beside the admin hardbake creates.
ssh_pwauth: false
users: []
`

// givenUserData checks user-data the user wrote: #cloud-config must be
// valid YAML without a hardbake: key (the host data is given once, with
// --host); scripts and MIME multipart go on the seed as they are. The
// warnings name cloud-config settings that work against hardbake.
func givenUserData(ud []byte, udSource, hostSource string) ([]byte, []string, error) {
	if len(ud) > host.MaxSize {
		return nil, nil, invalid("--user-data %s is %d bytes; at most %d", udSource, len(ud), host.MaxSize)
	}
	first, _, _ := bytes.Cut(bytes.TrimPrefix(ud, []byte("\xef\xbb\xbf")), []byte("\n"))
	if strings.TrimRight(string(first), " \t\r") != "#cloud-config" {
		return ud, nil, nil
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(ud, &doc); err != nil {
		return nil, nil, invalid("--user-data %s: not valid YAML: %v", udSource, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	var top *yaml.Node
	if len(doc.Content) > 0 {
		top = doc.Content[0]
		if top.Kind != yaml.MappingNode {
			return nil, nil, invalid("--user-data %s: #cloud-config must be a mapping of keys", udSource)
		}
		for i := 0; i+1 < len(top.Content); i += 2 {
			if top.Content[i].Value == host.CloudConfigKey {
				return nil, nil, invalid("--user-data %s already has a %s: key (line %d) and --host %s gives host data too: give it once", udSource, host.CloudConfigKey, top.Content[i].Line, hostSource)
			}
		}
	}
	return ud, fightingKeys(top), nil
}

// fightingKeys names cloud-config settings that undo what hardbake bakes.
func fightingKeys(top *yaml.Node) []string {
	if top == nil {
		return nil
	}
	var warn []string
	for i := 0; i+1 < len(top.Content); i += 2 {
		k, v := top.Content[i], top.Content[i+1]
		switch k.Value {
		case "ssh_pwauth":
			var b bool
			if v.Decode(&b) == nil && b {
				warn = append(warn, fmt.Sprintf("line %d: ssh_pwauth: %s turns SSH password login back on", k.Line, v.Value))
			}
		case "chpasswd", "password":
			warn = append(warn, fmt.Sprintf("line %d: %s sets passwords; hardbake's hosts log in with keys only", k.Line, k.Value))
		case "disable_root":
			var b bool
			if v.Decode(&b) == nil && !b {
				warn = append(warn, fmt.Sprintf("line %d: disable_root: %s lets root log in with keys", k.Line, v.Value))
			}
		case "users":
			for _, u := range v.Content {
				for j := 0; j+1 < len(u.Content); j += 2 {
					switch u.Content[j].Value {
					case "passwd", "hashed_passwd", "plain_text_passwd":
						warn = append(warn, fmt.Sprintf("line %d: users[].%s gives an account a password", u.Content[j].Line, u.Content[j].Value))
					}
				}
			}
		}
	}
	return warn
}

func yamlDocument(data []byte, source string) error {
	if len(data) > host.MaxSize {
		return invalid("%s is %d bytes; at most %d", source, len(data), host.MaxSize)
	}
	var v any
	if err := yaml.Unmarshal(data, &v); err != nil {
		return invalid("%s: not valid YAML: %v", source, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	return nil
}

func metaDataHasInstanceID(data []byte, source string) error {
	if err := yamlDocument(data, source); err != nil {
		return err
	}
	var m map[string]any
	if err := yaml.Unmarshal(data, &m); err != nil || m["instance-id"] == nil || fmt.Sprint(m["instance-id"]) == "" {
		return invalid("--meta-data %s has no instance-id: cloud-init needs one to tell a first boot", source)
	}
	return nil
}
