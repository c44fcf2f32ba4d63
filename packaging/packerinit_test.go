package packaging_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestPackerInitDownloads: real packer 1.16.0 runs `packer init` on the
// README's required_plugins block and installs the plugin from the release
// files, by the same requests it makes to GitHub: the tag list from
// api.github.com, then packer-plugin-hardbake_v0.1.0_SHA256SUMS and the
// zip from github.com/hardbake/packer-plugin-hardbake/releases/download/v0.1.0/.
// Packer has no setting for another download site, so the test stands in
// for GitHub: packer goes through an HTTPS proxy (HTTPS_PROXY) that
// answers github.com and api.github.com with a certificate of a test CA that
// only this packer trusts (SSL_CERT_FILE), serving dist/. Nothing reaches
// the network: every other host gets 404.
func TestPackerInitDownloads(t *testing.T) {
	t.Parallel()
	r := buildRelease(t)
	out, err := exec.Command("bash", "../scripts/tools.sh", "packer").Output()
	if err != nil {
		t.Fatalf("scripts/tools.sh packer: %v", err)
	}
	packer := strings.TrimSpace(string(out))
	dir := t.TempDir()
	caFile, cert := testCA(t, dir, "github.com", "api.github.com", "releases.hashicorp.com")
	gh := &fakeGitHub{dist: r.dist, release: testVersion}
	proxy := startProxy(t, cert, gh)

	template := readmeRequiredPlugins(t) + "\n"
	if err := os.WriteFile(filepath.Join(dir, "plugins.pkr.hcl"), []byte(template), 0o644); err != nil {
		t.Fatal(err)
	}
	pluginPath := filepath.Join(dir, "plugins")
	cmd := exec.Command(packer, "init", ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "PACKER_PLUGIN_PATH="+pluginPath, "PACKER_CONFIG_DIR="+filepath.Join(dir, "config"),
		"CHECKPOINT_DISABLE=1", "HTTPS_PROXY=http://"+proxy, "HTTP_PROXY=http://"+proxy, "NO_PROXY=", "SSL_CERT_FILE="+caFile,
		"PACKER_GITHUB_API_TOKEN=")
	initOut, err := cmd.CombinedOutput()
	t.Logf("packer init:\n%s\nrequests:\n%s", initOut, strings.Join(gh.log(), "\n"))
	if err != nil {
		t.Fatalf("packer init: %v", err)
	}
	installed := filepath.Join(pluginPath, "github.com/hardbake/hardbake/packer-plugin-hardbake_v0.1.0_x5.0_linux_amd64")
	if _, err := os.Stat(installed); err != nil {
		t.Fatalf("packer init did not install the plugin: %v", err)
	}
	want := []string{
		"github.com /hardbake/packer-plugin-hardbake/releases/download/v0.1.0/packer-plugin-hardbake_v0.1.0_SHA256SUMS",
		"github.com /hardbake/packer-plugin-hardbake/releases/download/v0.1.0/packer-plugin-hardbake_v0.1.0_x5.0_linux_amd64.zip",
	}
	for _, w := range want {
		if !strings.Contains(strings.Join(gh.log(), "\n"), w+" 200") {
			t.Errorf("packer init did not download %s", w)
		}
	}
	// The installed binary is the one in the release's zip.
	got, _ := os.ReadFile(installed)
	wantBin, _ := os.ReadFile(pluginBinary(t, r))
	if string(got) != string(wantBin) {
		t.Error("the installed plugin differs from the release zip's binary")
	}
}

// fakeGitHub answers packer's requests for a release from dist/.
type fakeGitHub struct {
	dist, release string
	mu            sync.Mutex
	requests      []string
}

func (g *fakeGitHub) log() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]string(nil), g.requests...)
}

func (g *fakeGitHub) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	code := g.serve(w, req)
	g.mu.Lock()
	g.requests = append(g.requests, req.Host+" "+req.URL.Path+" "+strconv.Itoa(code))
	g.mu.Unlock()
}

func (g *fakeGitHub) serve(w http.ResponseWriter, req *http.Request) int {
	host, _, _ := strings.Cut(req.Host, ":")
	switch {
	case host == "api.github.com" && req.URL.Path == "/repos/hardbake/packer-plugin-hardbake/git/matching-refs/tags":
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`[{"ref":"refs/tags/` + g.release + `"}]`))
		return http.StatusOK
	case host == "github.com":
		prefix := "/hardbake/packer-plugin-hardbake/releases/download/" + g.release + "/"
		name, ok := strings.CutPrefix(req.URL.Path, prefix)
		if ok && name == path.Base(name) && strings.HasPrefix(name, "packer-plugin-hardbake_") {
			if data, err := os.ReadFile(filepath.Join(g.dist, name)); err == nil {
				w.Write(data)
				return http.StatusOK
			}
		}
	}
	http.NotFound(w, req)
	return http.StatusNotFound
}

// testCA writes a CA certificate to dir/ca.pem and returns it with a
// server certificate it signed for hosts.
func testCA(t *testing.T, dir string, hosts ...string) (string, tls.Certificate) {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "hardbake packer init test CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	leafTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: hosts[0]}, DNSNames: hosts,
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, caCert, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caFile := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), 0o644); err != nil {
		t.Fatal(err)
	}
	return caFile, tls.Certificate{Certificate: [][]byte{leafDER}, PrivateKey: key}
}

// startProxy runs an HTTP proxy on loopback that accepts CONNECT to any
// host and answers inside the tunnel itself, with TLS under cert and
// handler: nothing is forwarded anywhere.
func startProxy(t *testing.T, cert tls.Certificate, handler http.Handler) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tunnels := &connListener{conns: make(chan net.Conn), addr: ln.Addr(), done: make(chan struct{})}
	inner := &http.Server{Handler: handler}
	go inner.Serve(tls.NewListener(tunnels, &tls.Config{Certificates: []tls.Certificate{cert}}))
	outer := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.Method != http.MethodConnect {
			http.Error(w, "this proxy only tunnels", http.StatusMethodNotAllowed)
			return
		}
		conn, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		conn.Write([]byte("HTTP/1.1 200 Connection established\r\n\r\n"))
		select {
		case tunnels.conns <- conn:
		case <-tunnels.done:
			conn.Close()
		}
	})}
	go outer.Serve(ln)
	t.Cleanup(func() {
		outer.Close()
		close(tunnels.done)
		inner.Close()
	})
	return ln.Addr().String()
}

// connListener hands the proxy's hijacked tunnels to an http.Server.
type connListener struct {
	conns chan net.Conn
	done  chan struct{}
	addr  net.Addr
}

func (l *connListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *connListener) Close() error   { return nil }
func (l *connListener) Addr() net.Addr { return l.addr }
