package steps

import (
	"encoding/hex"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// Listener is a socket waiting for connections (TCP LISTEN) or datagrams
// (bound UDP), like a line of `ss -tulpn`.
type Listener struct {
	Proto   string // tcp, tcp6, udp, udp6
	Addr    netip.Addr
	Port    int
	Inode   uint64
	Process string // command name, "" when unknown
}

func (l Listener) String() string {
	s := fmt.Sprintf("%s %s", l.Proto, netip.AddrPortFrom(l.Addr, uint16(l.Port)))
	if l.Process != "" {
		s += " " + l.Process
	}
	return s
}

// parseProcNet reads /proc/net/{tcp,tcp6,udp,udp6}. Addresses are hex in
// host byte order per 32-bit word; TCP state 0A is LISTEN, UDP state 07
// (unconnected) is a bound socket.
func parseProcNet(text, proto string) []Listener {
	var out []Listener
	for i, line := range strings.Split(text, "\n") {
		f := strings.Fields(line)
		if i == 0 || len(f) < 10 {
			continue
		}
		state := f[3]
		if (strings.HasPrefix(proto, "tcp") && state != "0A") || (strings.HasPrefix(proto, "udp") && state != "07") {
			continue
		}
		hexAddr, hexPort, ok := strings.Cut(f[1], ":")
		if !ok {
			continue
		}
		port, err := strconv.ParseUint(hexPort, 16, 16)
		if err != nil {
			continue
		}
		raw, err := hex.DecodeString(hexAddr)
		if err != nil || (len(raw) != 4 && len(raw) != 16) {
			continue
		}
		for w := 0; w < len(raw); w += 4 { // each 32-bit word is little-endian
			raw[w], raw[w+1], raw[w+2], raw[w+3] = raw[w+3], raw[w+2], raw[w+1], raw[w]
		}
		addr, _ := netip.AddrFromSlice(raw)
		inode, _ := strconv.ParseUint(f[9], 10, 64)
		out = append(out, Listener{Proto: proto, Addr: addr.Unmap(), Port: int(port), Inode: inode})
	}
	return out
}

// liveListeners lists the running system's listeners with their processes
// (socket inodes matched against every /proc/PID/fd link), sorted by port.
func liveListeners(procDir string) []Listener {
	var all []Listener
	for _, proto := range []string{"tcp", "tcp6", "udp", "udp6"} {
		data, err := os.ReadFile(filepath.Join(procDir, "net", proto))
		if err == nil {
			all = append(all, parseProcNet(string(data), proto)...)
		}
	}
	owners := socketOwners(procDir)
	for i := range all {
		all[i].Process = owners[all[i].Inode]
	}
	sort.Slice(all, func(i, j int) bool {
		if all[i].Port != all[j].Port {
			return all[i].Port < all[j].Port
		}
		return all[i].Proto < all[j].Proto
	})
	return all
}

// socketOwners maps socket inodes to "name(pid)".
func socketOwners(procDir string) map[uint64]string {
	out := map[uint64]string{}
	pids, _ := os.ReadDir(procDir)
	for _, p := range pids {
		pid := p.Name()
		if _, err := strconv.Atoi(pid); err != nil {
			continue
		}
		fds, err := os.ReadDir(filepath.Join(procDir, pid, "fd"))
		if err != nil {
			continue
		}
		comm, _ := os.ReadFile(filepath.Join(procDir, pid, "comm"))
		name := fmt.Sprintf("%s(%s)", strings.TrimSpace(string(comm)), pid)
		for _, fd := range fds {
			link, err := os.Readlink(filepath.Join(procDir, pid, "fd", fd.Name()))
			if err != nil || !strings.HasPrefix(link, "socket:[") {
				continue
			}
			if ino, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimPrefix(link, "socket:["), "]"), 10, 64); err == nil {
				if _, seen := out[ino]; !seen {
					out[ino] = name
				}
			}
		}
	}
	return out
}

// knownListeners are packages whose service listens on the network by
// default, for images where nothing runs: "package: what it opens".
var knownListeners = map[string]string{
	"openssh-server":     "22/tcp sshd",
	"openssh":            "22/tcp sshd",
	"exim4-daemon-light": "25/tcp exim4 (local only by default on Debian)",
	"exim4-daemon-heavy": "25/tcp exim4",
	"exim":               "25/tcp exim",
	"postfix":            "25/tcp postfix",
	"sendmail":           "25/tcp sendmail",
	"rpcbind":            "111/tcp+udp rpcbind",
	"nfs-kernel-server":  "2049/tcp nfsd",
	"nfs-utils":          "2049/tcp nfsd",
	"avahi-daemon":       "5353/udp avahi-daemon",
	"avahi":              "5353/udp avahi-daemon",
	"cups":               "631/tcp cupsd",
	"cups-daemon":        "631/tcp cupsd",
	"samba":              "139,445/tcp smbd",
	"apache2":            "80/tcp apache2",
	"httpd":              "80/tcp httpd",
	"nginx":              "80/tcp nginx",
	"telnetd":            "23/tcp telnetd",
	"inetutils-telnetd":  "23/tcp telnetd",
	"telnet-server":      "23/tcp telnetd",
	"rsh-server":         "513-514/tcp rshd",
	"vsftpd":             "21/tcp vsftpd",
	"snmpd":              "161/udp snmpd",
	"net-snmp":           "161/udp snmpd",
	"bind9":              "53/tcp+udp named",
	"bind":               "53/tcp+udp named",
	"dnsmasq":            "53/tcp+udp dnsmasq",
	"mariadb-server":     "3306/tcp mariadbd",
	"postgresql":         "5432/tcp postgres",
	"cockpit-ws":         "9090/tcp cockpit",
	"chrony":             "323/udp chronyd (localhost)",
	"nis":                "ypbind (RPC)",
	"ypserv":             "ypserv (RPC)",
	"talkd":              "518/udp talkd",
	"xinetd":             "xinetd (per its config)",
}

func knownListenerPackages() []string {
	out := make([]string, 0, len(knownListeners))
	for p := range knownListeners {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}
