package gitsource

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"unicode"
)

// checkRepoPath validates a path that comes from a repository (a submodule
// name or path, or a file inside a flattened submodule). It refuses what
// could write outside the checkout or into a .git directory on any of the
// file systems Cal.com is deployed on or developed from: "..", absolute
// paths, empty or "." components, control characters, and a ".git"
// component in any case or in its NTFS ("GIT~1", ".git.", ".git ",
// ".git::$INDEX_ALLOCATION") and HFS+ (ignorable Unicode) disguises.
func checkRepoPath(p string) error {
	if p == "" {
		return fmt.Errorf("empty path")
	}
	if strings.HasPrefix(p, "/") || strings.HasPrefix(p, `\`) || (len(p) >= 2 && p[1] == ':' && unicode.IsLetter(rune(p[0]))) {
		return fmt.Errorf("absolute path %q", p)
	}
	for _, r := range p {
		if r < 0x20 || r == 0x7f {
			return fmt.Errorf("control character in path %q", p)
		}
	}
	for _, comp := range strings.FieldsFunc(p+"/", func(r rune) bool { return r == '/' || r == '\\' }) {
		switch {
		case comp == "." || comp == "..":
			return fmt.Errorf("path %q contains %q", p, comp)
		case isDotGit(comp):
			return fmt.Errorf("path %q contains a .git component (%q)", p, comp)
		}
	}
	if strings.Contains(p, "//") || strings.HasSuffix(p, "/") {
		return fmt.Errorf("path %q has an empty component", p)
	}
	return nil
}

// hfsIgnorable are the code points HFS+ ignores when comparing names, so
// ".g\u200cit" is ".git" there (git's is_hfs_dotgit).
func hfsIgnorable(r rune) bool {
	switch {
	case r == 0x200c, r == 0x200d, r == 0x200e, r == 0x200f:
		return true
	case r >= 0x202a && r <= 0x202e:
		return true
	case r >= 0x206a && r <= 0x206f:
		return true
	case r == 0xfeff:
		return true
	}
	return false
}

// isDotGit reports whether one path component names a .git directory on
// some file system.
func isDotGit(comp string) bool {
	c := strings.Map(func(r rune) rune {
		if hfsIgnorable(r) {
			return -1
		}
		return r
	}, comp)
	if i := strings.IndexByte(c, ':'); i >= 0 { // NTFS alternate data streams
		c = c[:i]
	}
	c = strings.TrimRight(c, ". ") // NTFS drops trailing dots and spaces
	c = strings.ToLower(c)
	return c == ".git" || c == "git~1"
}

// checkURL refuses submodule URLs that could make a git client run code
// or read arbitrary files: option injection ("-..."), control characters
// and remote helpers (ext::, fd::).
func checkURL(u string) error {
	if u == "" {
		return fmt.Errorf("empty URL")
	}
	if strings.HasPrefix(u, "-") {
		return fmt.Errorf("URL %q starts with '-' (option injection)", redactURL(u))
	}
	for _, r := range u {
		if r < 0x20 || r == 0x7f {
			return fmt.Errorf("control character in URL %q", redactURL(u))
		}
	}
	if urlKind(u) == kindUnsupported {
		return fmt.Errorf("unsupported URL scheme in %q", redactURL(u))
	}
	return nil
}

// noSymlinkBelow checks that no existing component of rel under root is a
// symlink, so a write to root/rel cannot be redirected outside root.
func noSymlinkBelow(root, rel string) error {
	cur := root
	for _, comp := range strings.Split(filepath.ToSlash(rel), "/") {
		cur = filepath.Join(cur, comp)
		st, err := os.Lstat(cur)
		if os.IsNotExist(err) {
			return nil
		}
		if err != nil {
			return err
		}
		if st.Mode()&os.ModeSymlink != 0 {
			rp, _ := filepath.Rel(root, cur)
			return fmt.Errorf("%w: %s is a symlink in the repository; a submodule at %s would be written through it", ErrUnsafeRepository, rp, rel)
		}
	}
	return nil
}
