package cli

import (
	"github.com/klpc/klpc/hostsnap"
	"github.com/spf13/cobra"
)

func init() { extraCommands = append(extraCommands, newSnapshotCommand) }

func newSnapshotCommand() *cobra.Command {
	var root string
	cmd := &cobra.Command{
		Use:   "snapshot",
		Short: "Print this host's loaded livepatches and modules as a snapshot (JSON)",
		Long: `snapshot records what the running machine has loaded: uname -r, every
patch of /sys/kernel/livepatch (enabled, transition, replace and stack_order
where the kernel has them, objects and their patched flag) and every module
of /proc/modules with its srcversion, version and taint. A deploy block's
from = "FILE" starts its steps from such a snapshot, and plan --hosts DIR
checks one step against a folder of them.

Hosts without klpc can run scripts/klpc-snapshot.sh, which writes the same
JSON with a POSIX shell (busybox is enough):

    ssh web-17 sh -s < scripts/klpc-snapshot.sh > hosts/web-17.json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, err := hostsnap.Capture(root)
			if err != nil {
				return err
			}
			data, err := hostsnap.Marshal(s)
			if err != nil {
				return err
			}
			_, err = cmd.OutOrStdout().Write(data)
			return err
		},
	}
	cmd.Flags().StringVar(&root, "root", "/", "read proc/ and sys/ under this folder instead of /")
	return cmd
}
