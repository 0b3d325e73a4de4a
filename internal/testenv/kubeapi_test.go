package testenv

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"testing"
)

func TestMain(m *testing.M) { os.Exit(KubeMain(m)) }

// TestSharedKubeAPI starts the real apiserver and asks it its version
// with the kubeconfig's credentials; a second call returns the same server.
func TestSharedKubeAPI(t *testing.T) {
	k := SharedKubeAPI(t)
	if k2 := SharedKubeAPI(t); k2 != k {
		t.Fatal("SharedKubeAPI started a second server")
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(k.CAData) {
		t.Fatal("CAData is not PEM")
	}
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	req, _ := http.NewRequest(http.MethodGet, k.URL+"/version", nil)
	req.Header.Set("Authorization", "Bearer "+k.Token)
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var v struct{ GitVersion string }
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		t.Fatal(err)
	}
	if v.GitVersion != KubeAPIVersion {
		t.Fatalf("server is %q, want %s", v.GitVersion, KubeAPIVersion)
	}
	// a wrong token is refused: the server really authenticates
	req.Header.Set("Authorization", "Bearer wrong")
	resp2, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp2.Body.Close()
	if resp2.StatusCode != http.StatusUnauthorized {
		t.Fatalf("wrong token: status %d, want 401", resp2.StatusCode)
	}
	kc, err := os.ReadFile(k.Kubeconfig)
	if err != nil || !strings.Contains(string(kc), k.URL) {
		t.Fatalf("kubeconfig %s does not name %s: %v", k.Kubeconfig, k.URL, err)
	}
}
