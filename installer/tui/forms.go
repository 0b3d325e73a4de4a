package tui

import (
	"cmp"
	"errors"
	"fmt"
	"strings"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"

	"github.com/calctl/calctl/installer/contract"
	"github.com/charmbracelet/huh"
)

// page is one huh group of a form screen, with the condition that hides it.
type page struct {
	group  *huh.Group
	fields []huh.Field
	hidden func() bool
}

// fs lists the fields of a page.
func fs(fields ...huh.Field) []huh.Field { return fields }

// pages returns the huh groups of a form screen, bound by pointer to m.v so
// that values are kept when the user goes back and forth. The fields of
// each group are kept too, so the wizard can find the group of the focused
// field and focus the field a failed check is about.
func (m *Model) pages(s screen) []page {
	ps := m.pageFields(s)
	for i := range ps {
		ps[i].group = huh.NewGroup(ps[i].fields...)
	}
	return ps
}

// pageFields returns the fields of a form screen, page by page.
func (m *Model) pageFields(s screen) []page {
	v := m.v
	m.texts = nil // the fields are new
	never := func() bool { return false }
	switch s {
	case screenSource:
		tokenOpts := []huh.Option[string]{}
		if m.cfg.Env.GitToken != "" {
			tokenOpts = append(tokenOpts, huh.NewOption("use "+m.cfg.TokenEnv+" from the environment (set)", tokenFromEnv))
		} else {
			tokenOpts = append(tokenOpts, huh.NewOption("use "+m.cfg.TokenEnv+" from the environment (not set)", tokenFromEnv))
		}
		tokenOpts = append(tokenOpts,
			huh.NewOption("type a token now (kept in memory, never saved)", tokenTyped),
			huh.NewOption("no token: the repository and its submodules are public", tokenNone))
		return []page{{hidden: never, fields: fs(
			m.input(text{title: "Repository URL", value: &v.SourceURL,
				valid: m.check(func(v *values, s string) { v.SourceURL = s }, "source.url")}),
			m.input(text{title: "Ref (branch, tag or commit)", value: &v.Ref}),
			newChoice("Private submodules (apps/api, ...)", &v.Submodules,
				huh.NewOption("resolve  clone them with the token; they stay submodules", "resolve"),
				huh.NewOption("flatten  clone them and commit their files into the tree", "flatten"),
				huh.NewOption("skip     leave them out; the public web app only", "skip")),
			newChoice("Git token", &v.TokenChoice, tokenOpts...),
		)}, {hidden: func() bool { return v.TokenChoice != tokenTyped }, fields: fs(
			m.input(text{title: "Git token", desc: "read access to the repository and its private submodules",
				masked: true, value: &v.Token, valid: func(s string) error {
					switch {
					case s != "":
						return nil
					case m.accessible:
						return errors.New("required: the token; or any text, and the access check that follows offers to change these answers")
					}
					return fmt.Errorf("required; or go back (shift+tab) and choose %s or no token", m.cfg.TokenEnv)
				}}),
		)}}
	case screenTarget:
		return append([]page{{hidden: never, fields: fs(
			newChoice("Run Cal.com with", &v.Target,
				huh.NewOption("compose  Docker Engine 20.10+ and compose v2; can bundle Postgres", contract.TargetCompose),
				huh.NewOption("pm2      Node (the repo's engines), yarn and pm2 on this host", contract.TargetPM2),
				huh.NewOption("kubernetes  a Kubernetes cluster, with Helm", contract.TargetKubernetes)),
		)}}, m.kubePages()...)
	case screenDatabase:
		bundled := "bundled   Postgres 16 in a container next to the app (compose)"
		if v.Target == contract.TargetKubernetes {
			// the release the answers will name (kubechart.DatabaseRelease;
			// the wizard does not link the chart code)
			rel := cmp.Or(strings.TrimSpace(v.Release), "calcom")
			bundled = "bundled   Postgres 16 in the cluster (Helm release " + rel + "-postgres)"
		}
		return []page{{hidden: never, fields: fs(
			newChoice("Postgres", &v.DBMode,
				huh.NewOption(bundled, contract.DBBundled),
				huh.NewOption("external  your own Postgres 13-17, over TLS", contract.DBExternal),
				huh.NewOption("rds       AWS RDS, TLS verify-full with the RDS CA bundle", contract.DBRDS)).
				validate(func(s string) error {
					w := *v
					w.DBMode = s
					return problemAt(w.answers(m.cfg.Answers, m.cfg.TokenEnv), contract.EnvSecrets{}, "database.mode")
				}),
		)}, {hidden: func() bool { return v.DBMode == contract.DBBundled }, fields: fs(
			m.input(text{title: "Database URL", desc: "postgresql://USER:PASSWORD@HOST:5432/DB (hidden; kept in memory)",
				masked: true, value: &v.DBURL, valid: m.check(func(v *values, s string) { v.DBURL = s }, "database.url_env")}),
			m.input(text{title: "CA file", optional: true, desc: "PEM of the CA that signed the server certificate (required for RDS)",
				value: &v.CAFile, valid: m.check(func(v *values, s string) { v.CAFile = s }, "database.ca_file")}),
		)}}
	case screenSite:
		site := fs(m.input(text{title: "Public URL", desc: "the address people open, e.g. https://cal.example.com",
			value: &v.PublicURL, valid: m.check(func(v *values, s string) { v.PublicURL = s }, "public_url", "kubernetes.(public_url)", "kubernetes.tls")}))
		if v.Target != contract.TargetKubernetes {
			// target kubernetes: the Ingress terminates TLS (kubernetes.tls)
			site = append(site, newChoice("Proxy and TLS", &v.Proxy,
				huh.NewOption("caddy  HTTPS with Let's Encrypt on ports 80 and 443", contract.ProxyCaddy),
				huh.NewOption("none   app on 127.0.0.1 (all interfaces if public_url is its port)", contract.ProxyNone)))
		}
		return []page{{hidden: never, fields: site}, {hidden: never, fields: fs(
			m.input(text{title: "E-mail: SMTP host (optional)", optional: true, desc: "leave empty to send no e-mail", value: &v.EmailHost,
				valid: m.check(func(v *values, s string) { v.EmailHost = s }, "email.host")}),
			m.input(text{title: "SMTP port", empty: "587", value: &v.EmailPort, valid: portCheck}),
			m.input(text{title: "SMTP user (empty: no login)", optional: true, value: &v.EmailUser}),
			m.input(text{title: "From address", optional: true, value: &v.EmailFrom,
				valid: m.check(func(v *values, s string) { v.EmailFrom = s }, "email.from", "email.port")}),
		)}, {hidden: func() bool { return v.EmailUser == "" }, fields: fs(
			m.input(text{title: "SMTP password", masked: true, value: &v.EmailPass,
				valid: m.check(func(v *values, s string) { v.EmailPass = s }, "email.password_env")}),
		)}, {hidden: never, fields: fs(
			m.input(text{title: "Billing: deployment id (optional)", optional: true, desc: "from your Infrastructure Plan; leave empty to skip the usage agent",
				value: &v.DeploymentID, valid: m.check(func(v *values, s string) { v.DeploymentID = s }, "billing.deployment_id")}),
		)}, {hidden: func() bool { return v.DeploymentID == "" }, fields: fs(
			m.input(text{title: "Billing endpoint", value: &v.BillingEndpoint,
				valid: m.check(func(v *values, s string) { v.BillingEndpoint = s }, "billing.endpoint")}),
			m.input(text{title: "Billing token", masked: true, value: &v.BillingToken,
				valid: m.check(func(v *values, s string) { v.BillingToken = s }, "billing.token_env")}),
			m.input(text{title: "Signing secret", masked: true, value: &v.Signing,
				valid: m.check(func(v *values, s string) { v.Signing = s }, "billing.signing_secret_env")}),
		)}}
	}
	return nil
}

// kubePages are the Target screen's pages for target kubernetes (hidden for
// the other targets): the answers' kubernetes block that matters at
// install, prefilled with the contract's defaults and checked by its rules
// (Answers.Validate), a few fields a page so that each fits 60×15.
func (m *Model) kubePages() []page {
	v := m.v
	notKube := func() bool { return v.Target != contract.TargetKubernetes }
	in := func(title, desc string, p *string, paths ...string) huh.Field {
		check := m.check(func(w *values, s string) {
			// the field's own value, on the copy the check validates
			*fieldOf(w, v, p) = s
		}, paths...)
		switch p {
		case &v.WebReplicas:
			check = replicasCheck(check)
		case &v.TLSIssuer:
			// chosen as the certificate's source, it is not optional: empty
			// would be plain http (the "none" option) under another name
			check = required(check, "required: the ClusterIssuer that issues the certificate, e.g. letsencrypt-prod; or choose none (plain http) as the Ingress certificate")
		case &v.TLSSecret:
			check = required(check, "required: the TLS Secret that holds the certificate, e.g. calcom-tls; or choose none (plain http) as the Ingress certificate")
		}
		// the fields whose title says what empty means are optional
		return m.input(text{title: title, desc: desc, value: p, valid: check, optional: strings.Contains(title, "(empty")})
	}
	return []page{{hidden: notKube, fields: fs(
		in("Kubeconfig", "", &v.Kubeconfig),
		in("Context (empty: the kubeconfig's current context)", "", &v.KubeContext),
	)}, {hidden: notKube, fields: fs(
		in("Namespace", "", &v.Namespace, "kubernetes.namespace"),
		in("Helm release", "", &v.Release, "kubernetes.release"),
		in("Web replicas", "", &v.WebReplicas, "kubernetes.replicas.web", "kubernetes.autoscaling.web"),
	)}, {hidden: notKube, fields: fs(
		in("Image registry", "calctl pushes the web image here, e.g. registry.example.com/calcom/web", &v.Registry, "kubernetes.registry"),
		in("Pull secret (empty: none)", "", &v.PullSecret, "kubernetes.pull_secret"),
	)}, {hidden: notKube, fields: fs(
		in("Ingress class (empty: the cluster default)", "", &v.IngressClass, "kubernetes.ingress_class"),
		in("Storage class (empty: the cluster default)", "", &v.StorageClass, "kubernetes.storage_class"),
	)}, {hidden: notKube, fields: fs(
		newChoice("Ingress certificate (TLS)", &v.TLSMode,
			huh.NewOption("issuer  cert-manager issues it (a ClusterIssuer)", tlsIssuer),
			huh.NewOption("secret  an existing kubernetes.io/tls Secret", tlsSecret),
			huh.NewOption("none    plain http (public URL http://)", tlsNone)),
	)}, {hidden: func() bool { return notKube() || v.TLSMode != tlsIssuer }, fields: fs(
		in("ClusterIssuer", "the cert-manager issuer, e.g. letsencrypt-prod", &v.TLSIssuer, "kubernetes.tls.issuer", "kubernetes.tls"),
	)}, {hidden: func() bool { return notKube() || v.TLSMode != tlsSecret }, fields: fs(
		in("TLS Secret", "in the release's namespace", &v.TLSSecret, "kubernetes.tls.secret", "kubernetes.tls"),
	)}}
}

// fieldOf returns the field of w that p is in v: a check sets the value it
// is given on w, a copy of the values v.
func fieldOf(w, v *values, p *string) *string {
	for _, f := range []struct{ in, out *string }{
		{&v.Kubeconfig, &w.Kubeconfig}, {&v.KubeContext, &w.KubeContext}, {&v.Namespace, &w.Namespace},
		{&v.Release, &w.Release}, {&v.Registry, &w.Registry}, {&v.PullSecret, &w.PullSecret},
		{&v.WebReplicas, &w.WebReplicas}, {&v.IngressClass, &w.IngressClass}, {&v.StorageClass, &w.StorageClass},
		{&v.TLSIssuer, &w.TLSIssuer}, {&v.TLSSecret, &w.TLSSecret},
	} {
		if f.in == p {
			return f.out
		}
	}
	return new(string)
}

// newForm builds the huh form of a form screen for the bubbletea view.
func (m *Model) newForm(s screen) *huh.Form {
	ps := m.pages(s)
	gs := make([]*huh.Group, len(ps))
	for i, p := range ps {
		gs[i] = p.group.WithHideFunc(p.hidden)
	}
	f := huh.NewForm(gs...).WithTheme(m.theme()).WithShowHelp(false).WithWidth(m.formWidth())
	// embedded: the wizard decides what submit and Ctrl+C mean
	f.SubmitCmd, f.CancelCmd = nil, nil
	m.cur = ps
	m.sizeForm()
	return f
}

// sizeForm gives each group of the current form the height of its fields,
// at most the room under the header less the lines of its validation
// errors, so an error is always drawn on screen (huh draws it under the
// group and does not count it). It runs after every update of the form.
func (m *Model) sizeForm() {
	for _, p := range m.cur {
		room := max(m.height-4, 3)
		p.group.WithWidth(m.formWidth())
		fh := 0 // huh draws errors under the group, after a blank line
		if e := p.group.Footer(); e != "" {
			fh = lipgloss.Height(e)
			room -= 1 + fh
		}
		// WithHeight takes the errors' lines off the height it is given
		p.group.WithHeight(max(min(lipgloss.Height(p.group.Content()), room), 2) + fh)
	}
	if m.form != nil {
		// huh places its viewport on the focused field only in Update
		m.form.Update(layoutMsg{})
	}
}

// layoutMsg makes huh lay out the focused group again after a resize.
type layoutMsg struct{}

// focusedPage returns the index of the page holding the focused field and
// the field's index in it (-1, -1 when none does).
func (m *Model) focusedPage() (int, int) {
	if m.form == nil {
		return -1, -1
	}
	f := m.form.GetFocusedField()
	for i, p := range m.cur {
		for j, pf := range p.fields {
			if pf == f {
				return i, j
			}
		}
	}
	return -1, -1
}

// focusField moves the focus of the fresh form to field j of page i: "edit"
// after a failed check lands on the field the check is about.
func (m *Model) focusField(i, j int) tea.Cmd {
	var cmds []tea.Cmd
	for n := 0; n < 20; n++ {
		pi, pj := m.focusedPage()
		switch {
		case pi < 0 || pi > i || (pi == i && pj >= j):
			return tea.Batch(cmds...)
		case pi < i:
			cmds = append(cmds, m.form.NextGroup())
		default:
			cmds = append(cmds, m.form.NextField())
		}
	}
	return tea.Batch(cmds...)
}

// backKeepsFocus reports whether shift+tab must be held back: huh refuses to
// leave a group that holds a field with a validation error, after it has
// blurred the field, and then nothing is focused and typing goes nowhere
// (a known huh problem). The wizard keeps the focus on the field instead,
// with its error on screen.
func (m *Model) backKeepsFocus() (bool, tea.Cmd) {
	pi, pj := m.focusedPage()
	if pi < 0 {
		return false, nil
	}
	f := m.form.GetFocusedField()
	f.Blur()
	bad := f.Error() != nil
	cmd := f.Focus()
	first := true
	for k := 0; k < pj; k++ {
		if !m.cur[pi].fields[k].Skip() {
			first = false
		}
	}
	if !bad && first && pi > 0 && len(m.cur[pi].group.Errors()) > 0 {
		bad = true
	}
	return bad, cmd
}

func (m *Model) formWidth() int {
	return min(m.width, 100) - 2
}

func (m *Model) theme() *huh.Theme {
	if m.plain {
		return huh.ThemeBase()
	}
	return huh.ThemeCharm()
}
