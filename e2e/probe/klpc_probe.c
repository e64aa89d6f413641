// SPDX-License-Identifier: GPL-2.0
/*
 * klpc_probe - an ordinary kernel module that gives livepatches something to patch
 * and makes the result observable.
 *
 * The module has four functions, klpc_probe_alpha() to klpc_probe_delta(), each of
 * them
 *
 *	const char *klpc_probe_<name>(void);
 *
 * returning the string "original". Reading /proc/klpc_probe calls each of them and
 * prints one line per function:
 *
 *	klpc_probe_alpha original
 *	klpc_probe_beta original
 *	...
 *	klpc_probe_sleep original
 *	klpc_probe_init_fn original
 *
 * A livepatch replacing one of them returns an identity instead, by convention
 * "<livepatch module>:<replacement function>" (KBUILD_MODNAME ":" __func__), so
 * the reader learns which livepatch module, and which of its functions, answered:
 *
 *	static const char *livepatch_klpc_probe_alpha(void)
 *	{
 *		static char id[128];
 *
 *		snprintf(id, sizeof(id), "%s:%s", KBUILD_MODNAME, __func__);
 *		return id;
 *	}
 *
 * Two more functions serve transitions and module loading:
 *
 *	const char *klpc_probe_sleep(void (*wait)(void *arg, const char *who), void *arg);
 *
 * calls wait(arg, "original") and then returns "original"; a replacement calls
 * wait(arg, <its identity>) the same way (when wait is not NULL). Writing
 * "block NAME" to /proc/klpc_probe_ctl starts a kernel thread "klpc-NAME" that
 * calls klpc_probe_sleep() and sleeps in wait() until "release NAME" is
 * written, so that whatever klpc_probe_sleep() ran is on the thread's stack
 * meanwhile: a livepatch transition that patches or unpatches the function
 * cannot switch that task and stays pending. Reading /proc/klpc_probe_ctl
 * lists the sleeping tasks, "NAME PID IDENTITY" (the identity of the
 * implementation the task sleeps in). Reading /proc/klpc_probe calls
 * klpc_probe_sleep(NULL, NULL), which returns at once.
 *
 *	const char *klpc_probe_init_fn(void);	(__init)
 *
 * is called once, by the module's init, which keeps what it returned; it is
 * an __init function, so a livepatch can only patch it while the module
 * loads (klp_module_coming), and /proc/klpc_probe reports what ran then.
 *
 * The functions are global and noinline, so that the compiler keeps each of them
 * as a symbol of its own with an ftrace call site at its entry (the livepatch core
 * redirects them through ftrace), and calls them instead of inlining them. Each
 * counts its calls in a counter of its own: without that, the four bodies would be
 * identical and the compiler could fold them into one.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/completion.h>
#include <linux/compiler.h>
#include <linux/ctype.h>
#include <linux/kernel.h>
#include <linux/kthread.h>
#include <linux/list.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/proc_fs.h>
#include <linux/sched.h>
#include <linux/sched/task.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <linux/wait.h>

/* Calls of each function, kept only to make the bodies differ. */
static unsigned long klpc_probe_calls[6];

#define KLPC_PROBE_FUNC(name, index)					\
	noinline const char *klpc_probe_##name(void)			\
	{								\
		WRITE_ONCE(klpc_probe_calls[index],			\
			   READ_ONCE(klpc_probe_calls[index]) + 1);	\
		return "original";					\
	}

/* Declarations keep -Wmissing-prototypes quiet; nothing outside calls them. */
const char *klpc_probe_alpha(void);
const char *klpc_probe_beta(void);
const char *klpc_probe_gamma(void);
const char *klpc_probe_delta(void);

KLPC_PROBE_FUNC(alpha, 0)
KLPC_PROBE_FUNC(beta, 1)
KLPC_PROBE_FUNC(gamma, 2)
KLPC_PROBE_FUNC(delta, 3)

/* wait() is called where the implementation sleeps; who is its identity. */
typedef void (*klpc_probe_wait_fn)(void *arg, const char *who);

const char *klpc_probe_sleep(klpc_probe_wait_fn wait, void *arg);

noinline const char *klpc_probe_sleep(klpc_probe_wait_fn wait, void *arg)
{
	WRITE_ONCE(klpc_probe_calls[4], READ_ONCE(klpc_probe_calls[4]) + 1);
	if (wait)
		wait(arg, "original");
	return "original";
}

/* What klpc_probe_init_fn() returned when the module's init called it. */
static char klpc_probe_init_ran[128] = "none";

const char *klpc_probe_init_fn(void);

noinline const char *__init klpc_probe_init_fn(void)
{
	WRITE_ONCE(klpc_probe_calls[5], READ_ONCE(klpc_probe_calls[5]) + 1);
	return "original";
}

/* A kernel thread sleeping in klpc_probe_sleep(). */
struct klpc_probe_task {
	struct list_head list;
	char name[16];
	struct task_struct *thread;
	struct completion entered;	/* the thread is in wait() */
	bool released;
	char running[128];		/* the identity wait() was given */
};

static LIST_HEAD(klpc_probe_tasks);
static DEFINE_MUTEX(klpc_probe_tasks_lock);
static DECLARE_WAIT_QUEUE_HEAD(klpc_probe_wq);

static void klpc_probe_wait(void *arg, const char *who)
{
	struct klpc_probe_task *t = arg;

	strscpy(t->running, who ? who : "(null)", sizeof(t->running));
	complete(&t->entered);
	/* TASK_IDLE: sleeps for as long as it takes without hung-task reports. */
	wait_event_idle(klpc_probe_wq, READ_ONCE(t->released));
}

static int klpc_probe_thread(void *data)
{
	struct klpc_probe_task *t = data;

	klpc_probe_sleep(klpc_probe_wait, t);
	pr_info("task %s returned\n", t->name);
	return 0;
}

/* Called with klpc_probe_tasks_lock held. */
static struct klpc_probe_task *klpc_probe_find(const char *name)
{
	struct klpc_probe_task *t;

	list_for_each_entry(t, &klpc_probe_tasks, list)
		if (!strcmp(t->name, name))
			return t;
	return NULL;
}

/* Called with klpc_probe_tasks_lock held: wakes the task, waits for its end. */
static void klpc_probe_release(struct klpc_probe_task *t)
{
	WRITE_ONCE(t->released, true);
	wake_up_all(&klpc_probe_wq);
	kthread_stop(t->thread);
	put_task_struct(t->thread);
	list_del(&t->list);
	kfree(t);
}

static int klpc_probe_block(const char *name)
{
	struct klpc_probe_task *t;
	struct task_struct *thread;

	if (klpc_probe_find(name))
		return -EEXIST;
	t = kzalloc(sizeof(*t), GFP_KERNEL);
	if (!t)
		return -ENOMEM;
	strscpy(t->name, name, sizeof(t->name));
	init_completion(&t->entered);
	thread = kthread_create(klpc_probe_thread, t, "klpc-%s", name);
	if (IS_ERR(thread)) {
		kfree(t);
		return PTR_ERR(thread);
	}
	/* kthread_stop() needs the task even after the thread has returned. */
	get_task_struct(thread);
	t->thread = thread;
	list_add_tail(&t->list, &klpc_probe_tasks);
	wake_up_process(thread);
	wait_for_completion(&t->entered);
	return 0;
}

/* "block NAME" or "release NAME"; NAME is 1 to 10 of [A-Za-z0-9_-]. */
static ssize_t klpc_probe_ctl_write(struct file *file, const char __user *ubuf,
				    size_t count, loff_t *ppos)
{
	char buf[32], *name;
	struct klpc_probe_task *t;
	size_t i;
	int ret;

	if (count == 0 || count >= sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, count))
		return -EFAULT;
	buf[count] = '\0';
	strim(buf);
	name = strchr(buf, ' ');
	if (!name)
		return -EINVAL;
	*name++ = '\0';
	if (strlen(name) == 0 || strlen(name) > 10)
		return -EINVAL;
	for (i = 0; name[i]; i++)
		if (!isalnum(name[i]) && name[i] != '_' && name[i] != '-')
			return -EINVAL;

	mutex_lock(&klpc_probe_tasks_lock);
	if (!strcmp(buf, "block")) {
		ret = klpc_probe_block(name);
	} else if (!strcmp(buf, "release")) {
		t = klpc_probe_find(name);
		ret = -ENOENT;
		if (t) {
			klpc_probe_release(t);
			ret = 0;
		}
	} else {
		ret = -EINVAL;
	}
	mutex_unlock(&klpc_probe_tasks_lock);
	return ret ? ret : count;
}

static int klpc_probe_ctl_show(struct seq_file *m, void *v)
{
	struct klpc_probe_task *t;

	mutex_lock(&klpc_probe_tasks_lock);
	list_for_each_entry(t, &klpc_probe_tasks, list)
		seq_printf(m, "%s %d %s\n", t->name, task_pid_nr(t->thread), t->running);
	mutex_unlock(&klpc_probe_tasks_lock);
	return 0;
}

static int klpc_probe_ctl_open(struct inode *inode, struct file *file)
{
	return single_open(file, klpc_probe_ctl_show, NULL);
}

static const struct proc_ops klpc_probe_ctl_ops = {
	.proc_open	= klpc_probe_ctl_open,
	.proc_read	= seq_read,
	.proc_lseek	= seq_lseek,
	.proc_release	= single_release,
	.proc_write	= klpc_probe_ctl_write,
};

static const struct {
	const char *name;
	const char *(*fn)(void);
} klpc_probe_funcs[] = {
	{ "klpc_probe_alpha", klpc_probe_alpha },
	{ "klpc_probe_beta", klpc_probe_beta },
	{ "klpc_probe_gamma", klpc_probe_gamma },
	{ "klpc_probe_delta", klpc_probe_delta },
};

static int klpc_probe_show(struct seq_file *m, void *v)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(klpc_probe_funcs); i++)
		seq_printf(m, "%s %s\n", klpc_probe_funcs[i].name,
			   klpc_probe_funcs[i].fn());
	seq_printf(m, "klpc_probe_sleep %s\n", klpc_probe_sleep(NULL, NULL));
	seq_printf(m, "klpc_probe_init_fn %s\n", klpc_probe_init_ran);
	return 0;
}

static int __init klpc_probe_init(void)
{
	/* Called through a volatile pointer so that the call stays a call. */
	const char *(*volatile init_fn)(void) = klpc_probe_init_fn;

	strscpy(klpc_probe_init_ran, init_fn(), sizeof(klpc_probe_init_ran));
	if (!proc_create_single("klpc_probe", 0444, NULL, klpc_probe_show))
		return -ENOMEM;
	if (!proc_create("klpc_probe_ctl", 0600, NULL, &klpc_probe_ctl_ops)) {
		remove_proc_entry("klpc_probe", NULL);
		return -ENOMEM;
	}
	return 0;
}

static void __exit klpc_probe_exit(void)
{
	struct klpc_probe_task *t, *n;

	remove_proc_entry("klpc_probe_ctl", NULL);
	mutex_lock(&klpc_probe_tasks_lock);
	list_for_each_entry_safe(t, n, &klpc_probe_tasks, list)
		klpc_probe_release(t);
	mutex_unlock(&klpc_probe_tasks_lock);
	remove_proc_entry("klpc_probe", NULL);
}

module_init(klpc_probe_init);
module_exit(klpc_probe_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Functions for livepatches to replace, observable in /proc/klpc_probe");
