package kubeinstall

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"

	"github.com/calctl/calctl/installer"
	"github.com/calctl/calctl/installer/contract"
	"github.com/calctl/calctl/installer/kubechart"
	"github.com/calctl/calctl/internal/safefile"
	"github.com/calctl/calctl/internal/secret"
)

type secretsStep struct{ r *run }

func (secretsStep) Name() string { return contract.StepSecrets }

// Run keeps the Secret's generated values from the cluster, else from the
// install directory's manifest; when both exist they must agree, since
// silently picking one could rotate CALENDSO_ENCRYPTION_KEY.
func (st secretsStep) Run(ctx context.Context, s *installer.State) error {
	a := s.Answers
	rel := a.Kubernetes.Release
	var fromFile map[string][]byte
	b, err := safefile.ReadFile(s.Path(kubechart.SecretPath(rel)), 1<<20) // never blocks on a FIFO in the install dir
	switch {
	case err == nil:
		if fromFile, err = kubechart.ParseSecretManifest(b); err != nil {
			return installer.WithRemedy(err, "restore %s from its .bak copy; calctl never regenerates an existing secret", s.Path(kubechart.SecretPath(rel)))
		}
	case !errors.Is(err, fs.ErrNotExist):
		return installer.WithRemedy(err, "make %s readable by the user running calctl", s.Path(kubechart.SecretPath(rel)))
	}
	var fromCluster map[string][]byte
	if c, err := st.r.connect(a); err == nil {
		var found bool
		fromCluster, found, err = c.ReadSecret(ctx, kubechart.SecretName(rel))
		if err != nil && !s.DryRun {
			return installer.WithRemedy(err, "calctl needs to read Secret %s in namespace %s (RBAC: get secrets)", kubechart.SecretName(rel), a.Kubernetes.Namespace)
		}
		if !found {
			fromCluster = nil
		}
	} else if !s.DryRun {
		return err
	}
	kept := fromFile
	if fromCluster != nil {
		for _, k := range kubechart.Generated {
			if f, ok := fromFile[k]; ok && !bytes.Equal(f, fromCluster[k]) {
				return installer.WithRemedy(fmt.Errorf("%s differs between Secret %s in the cluster and %s", k, kubechart.SecretName(rel), kubechart.SecretPath(rel)),
					"decide which is current (the cluster's is what Cal.com uses); delete the other, then run calctl again")
			}
		}
		kept = fromCluster
	}
	in, err := secretInputs(a, s.Env)
	if err != nil {
		return err
	}
	in.Kept = kept
	data, generated, err := kubechart.BuildSecrets(Config(a, s.Repo, "", nil), in, generate)
	if err != nil {
		return err
	}
	for _, k := range kubechart.Generated {
		if _, ok := data[k]; !ok {
			continue
		}
		if contains(generated, k) {
			s.Logf("info", "%s: generated", k)
		} else {
			s.Logf("info", "%s: kept from the previous run", k)
		}
	}
	st.r.data = data
	// for masking in diffs and events
	s.Secrets = installer.Secrets{NextAuthSecret: secret.Secret(data[kubechart.KeyNextAuthSecret]),
		EncryptionKey: secret.Secret(data[kubechart.KeyEncryptionKey]), DatabasePassword: secret.Secret(data[kubechart.KeyPostgresPass]),
		GeneratedThisRun: generated}
	return nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func generate(key string) (string, error) {
	switch key {
	case kubechart.KeyNextAuthSecret:
		return installer.NewNextAuthSecret()
	case kubechart.KeyEncryptionKey:
		return installer.NewEncryptionKey()
	}
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}

func secretInputs(a *contract.Answers, env installer.EnvSecrets) (kubechart.SecretInputs, error) {
	in := kubechart.SecretInputs{SMTPPassword: env.SMTPPassword.Reveal(), BillingToken: env.BillingToken.Reveal(), SigningSecret: env.SigningSecret.Reveal(),
		EmailHost: a.Email.Host, EmailUser: a.Email.User, EmailFrom: a.Email.From, EmailFromName: a.Email.FromName}
	if a.Database.Mode != contract.DBBundled {
		pod := *a
		pod.Target = contract.TargetCompose // the CA path as mounted in containers (/etc/calcom/db-ca.pem)
		u, err := installer.DatabaseURL(&pod, env, installer.Secrets{})
		if err != nil {
			return in, err
		}
		in.DatabaseURL = u
	}
	if a.Database.CAFile != "" {
		b, err := safefile.ReadFile(a.Database.CAFile, 4<<20)
		if err != nil {
			return in, installer.WithRemedy(fmt.Errorf("database.ca_file: %w", err), "download the CA bundle to %s", a.Database.CAFile)
		}
		in.DBCACert = b
	}
	return in, nil
}
