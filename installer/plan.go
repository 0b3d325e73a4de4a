package installer

// RenderPlan is `calctl render`: configuration only, for people who deploy
// with their own tools.
func RenderPlan() []Step {
	return []Step{
		secretsStep{}, // load kept secrets, generate missing ones (before render: .env holds them)
		renderStep{},  // templates -> State.Files, compose checked with compose-go
		writeStep{},   // atomic writes with backups; diff only in --dry-run
	}
}

// InstallPlan is `calctl install`: every step, in order. Each step is
// idempotent and, with --dry-run, only reports.
func InstallPlan(a *Answers) []Step {
	return []Step{
		preflightStep{}, // host checks; nothing changes before they pass
		cloneStep{},     // clone, or fetch + move an existing checkout (dirty tree refused)
		secretsStep{},   // kept secrets, generate missing ones
		renderStep{},    // templates -> files in memory, compose checked with compose-go
		writeStep{},     // atomic writes with backups
		startStep{},     // compose up -d --build + wait healthy, or pm2
		migrateStep{},   // _prisma_migrations check, then migrate deploy
		verifyStep{},    // GET the app until it answers
		checkStep{},     // hardening checks on what was installed; --fail-on decides the exit code
		agentStep{},     // usage agent config + service / systemd unit
	}
}

// CloneStep is the clone step, for plans of other targets (installer/kubeinstall).
func CloneStep() Step { return cloneStep{} }

// WriteStep is the write step, for plans of other targets (installer/kubeinstall).
func WriteStep() Step { return writeStep{} }
