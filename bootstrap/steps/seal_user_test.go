package steps

import (
	"reflect"
	"testing"
)

// TestSealBuildUserEntry: the build user is its first /etc/passwd entry (as
// userdel and getpwnam see it); a line with too few fields is no account.
func TestSealBuildUserEntry(t *testing.T) {
	env := fixture(t, map[string]string{
		"etc/os-release": "ID=debian\n",
		"etc/passwd": "root:x:0:0:root:/root:/bin/bash\n#packer:x:5:5::/c:/bin/sh\nbroken:x:9\n" +
			"packer:x:1000:1000::/home/packer:/bin/bash\npacker:x:1001:1001::/home/other:/bin/bash\n",
		"home/packer/.ssh/authorized_keys": "k\n",
		"home/other/.ssh/authorized_keys":  "k\n",
	})
	env.Profile.Seal.RemoveUser = "packer"
	ops := Seal{}.userOps(env)
	if len(ops) != 1 || !reflect.DeepEqual(ops[0].Cmd, []string{"userdel", "-r", "packer"}) {
		t.Errorf("userOps = %+v", ops)
	}
	if got := buildUserKeys(env, "packer"); !reflect.DeepEqual(got, []string{"/home/packer/.ssh/authorized_keys"}) {
		t.Errorf("buildUserKeys = %q, want the first entry's home", got)
	}
	for _, name := range []string{"broken", "nobody", "#packer"} {
		if _, ok := passwdEntry(env, name); ok {
			t.Errorf("%s: found", name)
		}
		env.Profile.Seal.RemoveUser = name
		if ops := (Seal{}).userOps(env); ops != nil {
			t.Errorf("%s: userOps = %+v", name, ops)
		}
	}
}
