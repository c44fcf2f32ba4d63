package steps

import (
	"reflect"
	"testing"
)

// TestLoginAccounts: file order, first entry of a name (getpwnam), no
// comments, short lines, nologin/false/sync shells or NIS compat lines.
func TestLoginAccounts(t *testing.T) {
	passwd := "root:x:0:0:root:/root:/bin/bash\n" +
		"# old:x:1:1::/home/old:/bin/bash\n" +
		"daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n" +
		"sync:x:4:65534:sync:/bin:/bin/sync\n" +
		"short:x:7\n" +
		"zed:x:1001:1001::/home/zed:/bin/zsh\n" +
		"alice:x:1000:1000::/home/alice:/bin/bash\n" +
		"svc:x:999:999::/srv:/bin/false\n" +
		"svc:x:998:998::/srv2:/bin/bash\n" +
		"zed:x:2001:2001::/elsewhere:/bin/sh\n" +
		"+::::::\n" +
		"+admin::::::/bin/bash\n"
	want := []Account{
		{Name: "root", UID: 0, Home: "/root", Shell: "/bin/bash"},
		{Name: "zed", UID: 1001, Home: "/home/zed", Shell: "/bin/zsh"},
		{Name: "alice", UID: 1000, Home: "/home/alice", Shell: "/bin/bash"},
	}
	for i := 0; i < 5; i++ { // the order is the file's, every time
		if got := loginAccounts(passwd); !reflect.DeepEqual(got, want) {
			t.Fatalf("got %+v\nwant %+v", got, want)
		}
	}
}
