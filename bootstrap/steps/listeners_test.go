package steps

import "testing"

func TestParseProcNet(t *testing.T) {
	tcp := `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 17431 1 0000000000000000 100 0 0 10 0
   1: 0100007F:0019 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 20012 1 0000000000000000 100 0 0 10 0
   2: 0F02000A:0016 0202000A:C350 01 00000000:00000000 02:0009DF3B 00000000     0        0 23456 4 0000000000000000 20 4 27 10 -1
`
	tcp6 := `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000000000000:08AE 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 17433 1 0000000000000000 100 0 0 10 0
   1: 00000000000000000000000001000000:0019 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 17434 1 0000000000000000 100 0 0 10 0
`
	udp := `   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
  220: 00000000:006F 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 15100 2 0000000000000000 0
`
	var got []string
	for _, l := range append(append(parseProcNet(tcp, "tcp"), parseProcNet(tcp6, "tcp6")...), parseProcNet(udp, "udp")...) {
		got = append(got, l.String())
	}
	want := []string{"tcp 0.0.0.0:22", "tcp 127.0.0.1:25", "tcp6 [::]:2222", "tcp6 [::1]:25", "udp 0.0.0.0:111"}
	if len(got) != len(want) {
		t.Fatalf("got %q", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("%d: got %q want %q", i, got[i], want[i])
		}
	}
}
