package e2e

import "path/filepath"

// guestSnapshotScript is where the guest finds scripts/klpc-snapshot.sh.
const guestSnapshotScript = "/bin/klpc-snapshot.sh"

// snapshotScript adds the repository's scripts/klpc-snapshot.sh to the
// initramfs files, once. Without the repository the guest's snapshot
// records say that sh cannot open the script.
func snapshotScript(files []guestFile) []guestFile {
	for _, f := range files {
		if f.path == guestSnapshotScript {
			return files
		}
	}
	root, err := repoRoot()
	if err != nil {
		return files
	}
	return append(files, guestFile{path: guestSnapshotScript, host: filepath.Join(root, "scripts", "klpc-snapshot.sh")})
}
