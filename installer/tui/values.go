package tui

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/calctl/calctl/installer/contract"
	"github.com/calctl/calctl/internal/secret"
)

// Token choices on the Source screen.
const (
	tokenFromEnv = "env"
	tokenTyped   = "typed"
	tokenNone    = "none"
)

// values are the form fields, as strings, bound to the huh fields by
// pointer. They survive going back and forth between screens.
type values struct {
	SourceURL, Ref, Submodules, SSHKey string
	TokenChoice, Token                 string

	Target string

	// target kubernetes (the answers' kubernetes block)
	Kubeconfig, KubeContext, Namespace, Release, Registry, PullSecret string
	WebReplicas, IngressClass, StorageClass                           string
	TLSMode, TLSIssuer, TLSSecret                                     string

	DBMode, DBURL, CAFile string

	PublicURL, Proxy                                      string
	EmailHost, EmailPort, EmailUser, EmailPass, EmailFrom string
	BillingEndpoint, DeploymentID, BillingToken, Signing  string
}

// Names of the environment variables the answers name for the secrets the
// wizard gathered; a saved answers file refers to them.
const (
	envDatabaseURL = "DATABASE_URL"
	envSMTP        = "SMTP_PASSWORD"
	envBilling     = "CALCTL_BILLING_TOKEN"
	envSigning     = "CALCTL_SIGNING_SECRET"
)

func newValues(a *contract.Answers, env contract.EnvSecrets, tokenEnv, kubeconfig string) values {
	v := values{
		SourceURL: a.Source.URL, Ref: a.Source.Ref, Submodules: a.Source.Submodules, SSHKey: a.Source.SSHKey,
		Target: a.Target, DBMode: a.Database.Mode, CAFile: a.Database.CAFile,
		PublicURL: a.PublicURL, Proxy: a.Proxy,
		EmailHost: a.Email.Host, EmailUser: a.Email.User, EmailFrom: a.Email.From,
		BillingEndpoint: a.Billing.Endpoint, DeploymentID: a.Billing.DeploymentID,
		DBURL: env.DatabaseURL.Reveal(), EmailPass: env.SMTPPassword.Reveal(),
		BillingToken: env.BillingToken.Reveal(), Signing: env.SigningSecret.Reveal(),
	}
	if a.Email.Port != 0 {
		v.EmailPort = strconv.Itoa(a.Email.Port)
	}
	v.kubeValues(a, kubeconfig)
	switch {
	case env.GitToken != "" && (a.Source.TokenEnv == "" || a.Source.TokenEnv == tokenEnv):
		v.TokenChoice = tokenFromEnv
	case a.Source.Submodules == "skip":
		v.TokenChoice = tokenNone
	default:
		v.TokenChoice = tokenTyped
	}
	return v
}

// answers builds the answers from base and the form values, defaults
// applied. Secrets never go into them: only the names of the environment
// variables that hold them.
func (v *values) answers(base *contract.Answers, tokenEnv string) *contract.Answers {
	a := *base
	a.Source.URL, a.Source.Ref, a.Source.Submodules = strings.TrimSpace(v.SourceURL), strings.TrimSpace(v.Ref), v.Submodules
	a.Source.SSHKey = strings.TrimSpace(v.SSHKey)
	a.Source.TokenEnv = ""
	if v.TokenChoice != tokenNone {
		a.Source.TokenEnv = tokenEnv
	}
	a.Target = v.Target
	a.Database.Mode = v.DBMode
	a.Database.CAFile = strings.TrimSpace(v.CAFile)
	if v.DBMode != contract.DBBundled && a.Database.URLEnv == "" {
		a.Database.URLEnv = envDatabaseURL
	}
	a.PublicURL, a.Proxy = strings.TrimSpace(v.PublicURL), v.Proxy
	a.Email = contract.Email{Host: strings.TrimSpace(v.EmailHost), User: strings.TrimSpace(v.EmailUser),
		From: strings.TrimSpace(v.EmailFrom), FromName: base.Email.FromName}
	a.Email.Port, _ = strconv.Atoi(strings.TrimSpace(v.EmailPort))
	if a.Email.User != "" {
		a.Email.PasswordEnv = envSMTP
	}
	a.Billing = contract.Billing{}
	if strings.TrimSpace(v.DeploymentID) != "" || strings.TrimSpace(v.BillingEndpoint) != "" {
		a.Billing = base.Billing
		a.Billing.Endpoint, a.Billing.DeploymentID = strings.TrimSpace(v.BillingEndpoint), strings.TrimSpace(v.DeploymentID)
		a.Billing.TokenEnv, a.Billing.SigningSecretEnv = envBilling, envSigning
		if a.Billing.LiveSince == "" {
			a.Billing.LiveSince = time.Now().UTC().Format("2006-01-02")
		}
	}
	if a.Target == contract.TargetKubernetes {
		v.kubeAnswers(&a, base)
	}
	a.ApplyDefaults()
	return &a
}

// TLS sources of target kubernetes (the Kubernetes screen).
const (
	tlsIssuer = "issuer"
	tlsSecret = "secret"
	tlsNone   = "none"
)

// kubeValues prefills the kubernetes fields from a, with the contract's
// defaults where a says nothing (Answers.ApplyDefaults for target
// kubernetes), and kubeconfig when a names none.
func (v *values) kubeValues(a *contract.Answers, kubeconfig string) {
	d := *a
	d.Target = contract.TargetKubernetes
	d.ApplyDefaults()
	k := d.Kubernetes
	v.Kubeconfig, v.KubeContext = k.Kubeconfig, k.Context
	if v.Kubeconfig == "" {
		v.Kubeconfig = kubeconfig
	}
	v.Namespace, v.Release, v.Registry, v.PullSecret = k.Namespace, k.Release, k.Registry, k.PullSecret
	v.WebReplicas = strconv.Itoa(k.Replicas.Web)
	v.IngressClass, v.StorageClass = k.IngressClass, k.StorageClass
	v.TLSIssuer = k.TLS.Issuer
	v.TLSMode = tlsIssuer
	if k.TLS.Issuer == "" && k.TLS.Secret != "" {
		v.TLSMode, v.TLSSecret = tlsSecret, k.TLS.Secret
	}
}

// kubeAnswers puts the kubernetes fields into a. A proxy is never part of
// target kubernetes (the Ingress terminates TLS), so it is none.
func (v *values) kubeAnswers(a *contract.Answers, base *contract.Answers) {
	k := &a.Kubernetes
	k.Kubeconfig, k.Context = strings.TrimSpace(v.Kubeconfig), strings.TrimSpace(v.KubeContext)
	k.Namespace, k.Release = strings.TrimSpace(v.Namespace), strings.TrimSpace(v.Release)
	k.Registry, k.PullSecret = strings.TrimSpace(v.Registry), strings.TrimSpace(v.PullSecret)
	k.Replicas.Web, _ = strconv.Atoi(strings.TrimSpace(v.WebReplicas))
	if k.Replicas.Web != base.Kubernetes.Replicas.Web {
		// the HPA's bounds follow the replicas (their defaults)
		k.Autoscaling.Web.MinReplicas, k.Autoscaling.Web.MaxReplicas = 0, 0
	}
	k.IngressClass, k.StorageClass = strings.TrimSpace(v.IngressClass), strings.TrimSpace(v.StorageClass)
	k.TLS.Issuer, k.TLS.Secret = "", ""
	switch v.TLSMode {
	case tlsIssuer:
		// the Secret cert-manager writes defaults to <release>-tls
		k.TLS.Issuer = strings.TrimSpace(v.TLSIssuer)
	case tlsSecret:
		k.TLS.Secret = strings.TrimSpace(v.TLSSecret)
	}
	a.Proxy = contract.ProxyNone
}

// env returns the secrets the answers name, from the form or the
// environment.
func (v *values) env(base contract.EnvSecrets) contract.EnvSecrets {
	e := base
	switch v.TokenChoice {
	case tokenTyped:
		e.GitToken = secret.Secret(v.Token)
	case tokenNone:
		e.GitToken = ""
	}
	e.DatabaseURL = ""
	if v.DBMode != contract.DBBundled {
		e.DatabaseURL = secret.Secret(strings.TrimSpace(v.DBURL))
	}
	e.SMTPPassword = secret.Secret(v.EmailPass)
	e.BillingToken = secret.Secret(v.BillingToken)
	e.SigningSecret = secret.Secret(v.Signing)
	return e
}

// ValidateField is the check the wizard runs when a field is left: the
// problem of a (and env) at one of paths, worded for the field, or nil. It
// is exported so that tests can hold the wizard to the same rules as the
// answers file and report (TestRules in internal/cli).
func ValidateField(a *contract.Answers, env contract.EnvSecrets, paths ...string) error {
	return problemAt(a, env, paths...)
}

// problemAt runs the engine's own validation (Answers.Validate and
// ResolveEnv) over a and env and returns the first problem at one of paths,
// as an error for huh to show next to the field. The wizard has no rules of
// its own.
func problemAt(a *contract.Answers, env contract.EnvSecrets, paths ...string) error {
	var ps []contract.Problem
	var ae *contract.AnswersError
	if err := a.Validate(); errors.As(err, &ae) {
		ps = append(ps, ae.Problems...)
	}
	lookup := map[string]string{
		a.Database.URLEnv: env.DatabaseURL.Reveal(), a.Email.PasswordEnv: env.SMTPPassword.Reveal(),
		a.Billing.TokenEnv: env.BillingToken.Reveal(), a.Billing.SigningSecretEnv: env.SigningSecret.Reveal(),
	}
	if _, err := a.ResolveEnv(func(k string) string { return lookup[k] }); errors.As(err, &ae) {
		ps = append(ps, ae.Problems...)
	}
	for _, p := range ps {
		for _, path := range paths {
			if p.Path == path {
				return errors.New(fieldMessage(p))
			}
		}
	}
	return nil
}

// fieldMessage words a Problem for the field it belongs to: the
// environment variable names are the wizard's business, not the user's.
func fieldMessage(p contract.Problem) string {
	msg := p.Message
	if strings.HasPrefix(msg, "environment variable ") && strings.HasSuffix(msg, " is empty") {
		msg = "required"
	}
	for _, n := range []string{envDatabaseURL + ": ", envSMTP + ": "} {
		msg = strings.TrimPrefix(msg, n)
	}
	if p.Expected != "" && !strings.HasPrefix(p.Expected, "export ") {
		msg += "; expected " + p.Expected
	}
	return msg
}

// check returns a huh validator for one field: it sets the field's value
// with set, then asks the engine's validation about paths.
func (m *Model) check(set func(v *values, s string), paths ...string) func(string) error {
	return func(s string) error {
		v := *m.v
		set(&v, s)
		return problemAt(v.answers(m.cfg.Answers, m.cfg.TokenEnv), v.env(m.cfg.Env), paths...)
	}
}

func portCheck(s string) error {
	if strings.TrimSpace(s) == "" {
		return nil
	}
	if err := contract.CheckPort(s); err != nil {
		return fmt.Errorf("%v; expected 587 (STARTTLS) or 465 (TLS)", err)
	}
	return nil
}

// replicasCheck is the Web replicas field's check: a whole number first
// (the answers hold an int, and a word would silently become the default),
// then the contract's rule (check).
func replicasCheck(check func(string) error) func(string) error {
	return func(s string) error {
		if t := strings.TrimSpace(s); t != "" {
			if n, err := strconv.Atoi(t); err != nil || n < 1 {
				return fmt.Errorf("%q is not a number of replicas; expected 1 to 100 (2 or more keeps the app up through a node drain)", t)
			}
		}
		return check(s)
	}
}

// required refuses an empty value with msg, then runs check.
func required(check func(string) error, msg string) func(string) error {
	return func(s string) error {
		if strings.TrimSpace(s) == "" {
			return errors.New(msg)
		}
		return check(s)
	}
}
