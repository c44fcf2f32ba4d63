package profile

import (
	"fmt"
	"slices"

	"github.com/hardbake/hardbake/bootstrap/sshcrypto"
)

// crypto checks ssh.crypto and ssh.crypto_require against hardbake's
// algorithm table: a required name must be one hardbake knows (no SHA-1, no
// CBC), and a required host key algorithm needs a host key of its type.
func (v *validator) crypto(s *SSH) {
	v.oneOf("ssh.crypto", s.Crypto, sshcrypto.Levels)
	for i, name := range s.CryptoRequire {
		path := fmt.Sprintf("ssh.crypto_require[%d]", i)
		a, ok := sshcrypto.Lookup(name)
		switch {
		case !ok:
			v.add(path, "%q is not an algorithm hardbake offers (SHA-1, CBC and 64-bit-tag MACs never are); see `hardbake profile`", name)
		case a.KeyType != "" && !slices.Contains(s.HostKeyTypes, a.KeyType):
			v.add(path, "%q needs %q in ssh.host_key_types", name, a.KeyType)
		case slices.Index(s.CryptoRequire, name) < i:
			v.add(path, "%q is listed twice", name)
		}
	}
}
