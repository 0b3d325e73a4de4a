package contract

// The names of the install steps (installer.Step.Name), in the order of an
// install plan. Views and the wizard's backend refer to steps by these names;
// installer's TestPlanStepNames keeps them equal to the steps' own.
const (
	StepPreflight = "preflight"
	StepClone     = "clone"
	StepSecrets   = "secrets"
	StepRender    = "render"
	StepWrite     = "write"
	StepStart     = "start"
	StepMigrate   = "migrate"
	StepSeed      = "seed"
	StepVerify    = "verify"
	StepCheck     = "check"
	StepAgent     = "agent"
	// target kubernetes (installer/kubeinstall)
	StepImage   = "image"
	StepRelease = "release"
)

// KubernetesSteps are the steps of `calctl install` for target kubernetes.
var KubernetesSteps = []string{StepClone, StepSecrets, StepImage, StepRender, StepWrite, StepRelease, StepCheck}

// InstallSteps are the steps of `calctl install`, in order.
var InstallSteps = []string{StepPreflight, StepClone, StepSecrets, StepRender, StepWrite, StepStart, StepMigrate, StepSeed, StepVerify, StepCheck, StepAgent}

// RenderSteps are the steps of `calctl render`, in order.
var RenderSteps = []string{StepSecrets, StepRender, StepWrite}

// Change is one thing a step would change; --dry-run prints them.
type Change struct {
	// Path is the file (relative to install_dir) or command the change is about.
	Path string
	// Action is create, update, chmod, unchanged or run.
	Action string
	// Diff is a line diff of the file, secrets masked (dry run only).
	Diff string
}

// Severity of a preflight Finding.
type Severity string

// Severities: an error stops the install, a warning does not.
const (
	SeverityError   Severity = "error"
	SeverityWarning Severity = "warning"
)

// Finding is one problem a preflight check found, with what to do about
// it. The preflight step attaches it to the log Event that reports it, so
// views read it as data instead of parsing the message.
type Finding struct {
	// Check is the name of the preflight check (installer/preflight.Names).
	Check string `json:"check"`
	// Severity says whether the finding stops the install.
	Severity Severity `json:"severity"`
	// Message says what is wrong, for a human.
	Message string `json:"message"`
	// Remedy says what to do about it.
	Remedy string `json:"remedy,omitempty"`
	// Ignored is true when --ignore-preflight named the check: an error
	// that no longer stops the install.
	Ignored bool `json:"ignored,omitempty"`
}

// Blocking reports whether f stops the install: an error that
// --ignore-preflight did not name.
func (f Finding) Blocking() bool { return f.Severity == SeverityError && !f.Ignored }

// String is the finding as one line: "check: message", marked when ignored.
func (f Finding) String() string {
	s := f.Check + ": " + f.Message
	if f.Ignored {
		s += " (ignored by --ignore-preflight)"
	}
	return s
}
