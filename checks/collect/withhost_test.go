package collect

import (
	"testing"

	"github.com/calctl/calctl/internal/secret"
)

// TestWithHost: the bundled database is dialled at its container's
// address; a URL that verifies the server's name keeps verifying its chain
// against the same CA (verify-ca), in whichever form it came.
func TestWithHost(t *testing.T) {
	for _, c := range []struct{ name, in, want string }{
		{"plain", "postgresql://u:p@database:5432/cal", "postgresql://u:p@172.18.0.2:5432/cal"},
		{"no port", "postgresql://u:p@database/cal?sslmode=require", "postgresql://u:p@172.18.0.2:5432/cal?sslmode=require"},
		{"prisma engine, strict", "postgresql://u:p@database:5432/cal?sslmode=require&sslcert=/opt/cal/db/tls/ca.pem&sslaccept=strict",
			"postgresql://u:p@172.18.0.2:5432/cal?sslmode=verify-ca&sslrootcert=%2Fopt%2Fcal%2Fdb%2Ftls%2Fca.pem"},
		{"prisma engine, not verifying", "postgresql://u:p@database:5432/cal?sslmode=require&sslcert=/ca.pem&sslaccept=accept_invalid_certs",
			"postgresql://u:p@172.18.0.2:5432/cal?sslmode=require&sslcert=/ca.pem&sslaccept=accept_invalid_certs"},
		{"libpq verify-full", "postgresql://u:p@database:5432/cal?sslmode=verify-full&sslrootcert=/opt/cal/db/tls/ca.pem",
			"postgresql://u:p@172.18.0.2:5432/cal?sslmode=verify-ca&sslrootcert=%2Fopt%2Fcal%2Fdb%2Ftls%2Fca.pem"},
		{"verify-full with system roots", "postgresql://u:p@database:5432/cal?sslmode=verify-full", "postgresql://u:p@172.18.0.2:5432/cal?sslmode=verify-full"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := withHost(secret.Secret(c.in), "172.18.0.2").Reveal(); got != c.want {
				t.Errorf("withHost(%s)\n got %s\nwant %s", c.in, got, c.want)
			}
		})
	}
}
