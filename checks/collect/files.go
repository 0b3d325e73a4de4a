package collect

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"github.com/calctl/calctl/checks"
)

func collectFiles(ctx context.Context, f *checks.Facts, o Options) error {
	if o.EnvFile == "" && o.ComposeFile == "" && o.PM2File == "" {
		return skipf("no .env, compose or pm2 file (--dir, --env-file, --compose-file)")
	}
	ff := &checks.FileFacts{AppEnv: map[string]checks.EnvVar{}}
	f.Files = ff
	raw := map[string]string{} // for ${VAR} expansion in compose; never stored
	if o.EnvFile != "" {
		m, err := ReadEnvFile(o.EnvFile)
		if err != nil {
			return err
		}
		ef := &checks.EnvFacts{Path: o.EnvFile, Vars: map[string]checks.EnvVar{}}
		secrets := false
		for k, e := range m {
			raw[k] = e.Value
			v := Describe(o.EnvFile, e.Line, k, e.Value)
			ef.Vars[k] = v
			ff.AppEnv[k] = v
			secrets = secrets || v.Secret
		}
		ff.Env = ef
		ff.Stats = append(ff.Stats, stat(ctx, o.EnvFile, "env", secrets))
	}
	if o.ComposeFile != "" {
		b, err := readRegular(o.ComposeFile, maxComposeFile)
		if err != nil {
			return err
		}
		cf, err := parseCompose(ctx, o.ComposeFile, b, raw)
		if err != nil {
			return err
		}
		ff.Compose = cf
		inline := false
		for _, s := range cf.Services {
			for k, v := range s.Env {
				if v.Secret && v.Len > 0 && v.Line > 0 {
					inline = true
				}
				if s.Role == "app" {
					ff.AppEnv[k] = v
				}
			}
		}
		ff.Stats = append(ff.Stats, stat(ctx, o.ComposeFile, "compose", inline))
	}
	if o.PM2File != "" {
		pf, err := ParsePM2(o.PM2File)
		if err != nil {
			return err
		}
		readJList(ctx, pf)
		ff.PM2 = pf
		secrets := false
		for _, a := range pf.Apps {
			for k, v := range a.Env {
				ff.AppEnv[k] = v
				secrets = secrets || v.Secret
			}
		}
		ff.Stats = append(ff.Stats, stat(ctx, o.PM2File, "pm2", secrets))
	}
	return nil
}

// stat records mode, owner and whether git tracks the file.
func stat(ctx context.Context, path, kind string, secrets bool) checks.FileStat {
	fs := checks.FileStat{Path: path, Kind: kind, Secrets: secrets}
	st, err := os.Stat(path)
	if err != nil {
		return fs
	}
	fs.Exists = true
	fs.Mode = uint32(st.Mode().Perm())
	if sys, ok := st.Sys().(*syscall.Stat_t); ok {
		fs.UID = int(sys.Uid)
	}
	if _, err := exec.LookPath("git"); err == nil {
		ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		defer cancel()
		dir := filepath.Dir(path)
		if exec.CommandContext(ctx, "git", "-C", dir, "rev-parse", "--is-inside-work-tree").Run() == nil {
			tracked := exec.CommandContext(ctx, "git", "-C", dir, "ls-files", "--error-unmatch", filepath.Base(path)).Run() == nil
			fs.GitTracked = &tracked
		}
	}
	return fs
}
