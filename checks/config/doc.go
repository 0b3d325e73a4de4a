// Package config holds the CF-* checks: Cal.com app configuration from the
// .env file, the compose file's environment and the pm2 ecosystem file. Each
// check is pure over checks.Facts and sees only key names, lengths, entropy
// estimates and digests, never a secret value.
package config

import "github.com/calctl/calctl/checks"

var needFiles = []checks.Source{checks.SourceFiles}

func missing(key string) checks.Finding {
	return checks.Finding{Status: checks.Fail, Resource: key, Message: key + " is not set"}
}
