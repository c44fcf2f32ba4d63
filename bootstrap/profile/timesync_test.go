package profile

import "testing"

func TestTimeSyncProfile(t *testing.T) {
	p, err := Parse([]byte("timesync:\n  daemon: chrony\n  servers: [169.254.169.123, metadata.google.internal, \"fd00:ec2::123\"]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if p.TimeSync.Daemon != "chrony" || len(p.TimeSync.Servers) != 3 {
		t.Errorf("timesync: %+v", p.TimeSync)
	}
	if Default().TimeSync.Daemon != "auto" {
		t.Errorf("default daemon %q, want auto", Default().TimeSync.Daemon)
	}
	badProfile(t, "timesync:\n  daemon: ntpd\n",
		`timesync.daemon (line 2): "ntpd" is not one of auto, chrony, systemd-timesyncd`)
	badProfile(t, "timesync:\n  servers:\n    - pool.ntp.org\n    - \"ntp server\"\n    - -bad.example\n    - pool.ntp.org\n",
		`timesync.servers[1] (line 4): "ntp server" is not a host name or IP address`,
		`timesync.servers[2] (line 5): "-bad.example" is not a host name or IP address`,
		`timesync.servers[3] (line 6): "pool.ntp.org" is listed twice`)
}
