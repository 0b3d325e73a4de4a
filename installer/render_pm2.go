package installer

import (
	"path/filepath"
)

// pm2Data is what the pm2 templates see. Every value is an answer that was
// validated, a path calctl built, or a number; the templates quote each
// for its file (jsstr for JavaScript, sh for the shell, systemd for units).
type pm2Data struct {
	InstallDir, SrcDir, EnvFile, EnvJS, NodeBin string
	NodeMajor                                   int
	NodeEngine                                  string
	Cluster                                     bool
	Instances                                   int
	MaxMemoryRestart                            string
	ListenHost                                  string
	WebDir                                      string
	WebPort                                     int
	API                                         bool
	APIDir, APIPackage                          string
	APIPort                                     int
	LogDir                                      string
	WebOutLog, WebErrLog, APIOutLog, APIErrLog  string
	Corepack, BuildMigrates                     bool
	MigrateCommand                              string
	Seed                                        bool
	PrismaPackage                               string
	Caddy, Cron                                 bool
	CalctlBin, Config                           string
}

type pm2File struct {
	tmpl, out string
	mode      uint32
	data      any
}

// PM2CalctlBin is where the pm2 units expect calctl.
const PM2CalctlBin = "/usr/local/bin/calctl"

func pm2Files(a *Answers, repo Repo, lay Layout, listen string) []pm2File {
	prisma := repo.PrismaPackage
	if prisma == "" {
		prisma = "@calcom/prisma"
	}
	d := pm2Data{
		InstallDir: a.InstallDir, SrcDir: a.Source.Dir,
		EnvFile: filepath.Join(a.InstallDir, ".env"), EnvJS: filepath.Join(a.InstallDir, "calcom-env.js"),
		NodeBin: a.PM2.Node, NodeMajor: repo.NodeMajor, NodeEngine: repo.NodeEngine,
		Cluster: a.PM2.Instances > 1, Instances: a.PM2.Instances, MaxMemoryRestart: a.PM2.MaxMemoryRestart,
		ListenHost: listen,
		WebDir:     filepath.Join(a.Source.Dir, "apps/web"), WebPort: a.Web.Port,
		API: lay.API, APIDir: filepath.Join(a.Source.Dir, filepath.FromSlash(lay.APIDir)), APIPackage: lay.APIPackage, APIPort: a.API.Port,
		LogDir:    a.PM2.LogDir,
		WebOutLog: filepath.Join(a.PM2.LogDir, "web.out.log"), WebErrLog: filepath.Join(a.PM2.LogDir, "web.err.log"),
		APIOutLog: filepath.Join(a.PM2.LogDir, "api.out.log"), APIErrLog: filepath.Join(a.PM2.LogDir, "api.err.log"),
		Corepack: repo.NeedsCorepack, BuildMigrates: repo.BuildMigrates,
		MigrateCommand: shellJoin(a.Migrate.Command),
		Seed:           repo.SeedAppStore && !repo.BuildMigrates, PrismaPackage: prisma,
		Caddy: a.Proxy == ProxyCaddy, Cron: lay.Cron,
		CalctlBin: PM2CalctlBin, Config: filepath.Join(a.InstallDir, "cron", "cron.yaml"),
	}
	if d.NodeMajor == 0 {
		d.NodeMajor = 18
	}
	files := []pm2File{
		{"pm2/ecosystem.config.js.tmpl", "ecosystem.config.js", 0o644, d},
		{"pm2/install-commands.sh.tmpl", "install-commands.sh", 0o755, d},
		{"pm2/calcom-pm2.logrotate.tmpl", "logrotate/calcom-pm2", 0o644, d},
	}
	if lay.Cron {
		files = append(files, pm2File{"pm2/calctl-cron.service.tmpl", "cron/calctl-cron.service", 0o644, d})
	}
	return files
}
