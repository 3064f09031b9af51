// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests of the pendtimer remove lock, built as pendtimer_kunit.ko
 * on kernels with CONFIG_KUNIT=y (the debug lanes) and loaded after
 * pendtimer.ko. The unit under test is pendtimer.ko's own: it exports
 * its functions to these tests (EXPORT_SYMBOL_IF_KUNIT in remove_lock.c);
 * it knows nothing of requests.
 *
 * The holder tracking's static key is pendtimer.ko's too (the module
 * parameter track_holders): the suite switches it off before the first
 * test and restores it after the last; every test starts with it off and
 * the exit hook switches it off again.
 */
#include <kunit/test.h>
#include <linux/delay.h>
#include <linux/kthread.h>
#include <linux/module.h>
#include <linux/seq_file.h>

#include "compat.h"
#include "remove_lock.h"

/* Render pendtimer_remove_lock_show() into a zeroed page owned by the test. */
static char *pendtimer_remove_lock_test_show_buf(struct kunit *test,
						 struct pendtimer_remove_lock *rl)
{
	struct seq_file m = { };
	char *buf;

	buf = kunit_kzalloc(test, PAGE_SIZE, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, buf);
	m.buf = buf;
	m.size = PAGE_SIZE - 1;
	pendtimer_remove_lock_show(rl, &m);
	return buf;
}

static unsigned int
pendtimer_remove_lock_test_nr_listed(struct pendtimer_remove_lock *rl)
{
	struct pendtimer_remove_lock_holder *h;
	unsigned int n = 0;

	spin_lock(&rl->lock);
	list_for_each_entry(h, &rl->holders, node)
		n++;
	spin_unlock(&rl->lock);
	return n;
}

/* Tracking off (the default): counted and watermarked, nothing listed. */
static void pendtimer_remove_lock_test_enter_exit(struct kunit *test)
{
	struct pendtimer_remove_lock rl;
	struct pendtimer_remove_lock_holder a, b;
	char *buf;

	KUNIT_ASSERT_FALSE(test, pendtimer_remove_lock_tracking());
	pendtimer_remove_lock_init(&rl);
	KUNIT_EXPECT_EQ(test, pendtimer_remove_lock_enter(&rl, &a, "a"), 0);
	KUNIT_EXPECT_EQ(test, pendtimer_remove_lock_enter(&rl, &b, "b"), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&rl.count), 3);
	KUNIT_EXPECT_FALSE(test, a.listed);
	KUNIT_EXPECT_FALSE(test, b.listed);
	KUNIT_EXPECT_EQ(test, pendtimer_remove_lock_test_nr_listed(&rl), 0U);
	buf = pendtimer_remove_lock_test_show_buf(test, &rl);
	KUNIT_EXPECT_NOT_NULL(test, strstr(buf, "holders: 2\n"));
	KUNIT_EXPECT_NOT_NULL(test, strstr(buf, "high_watermark: 2\n"));
	KUNIT_EXPECT_NULL(test, strstr(buf, "holder: "));
	pendtimer_remove_lock_exit(&rl, &b);
	pendtimer_remove_lock_exit(&rl, &a);
	KUNIT_EXPECT_EQ(test, atomic_read(&rl.count), 1);
	KUNIT_EXPECT_EQ(test, atomic_read(&rl.high_watermark), 2);
	/* no clock was read: no hold is timed */
	KUNIT_EXPECT_EQ(test, rl.max_hold_ns, 0ULL);
	buf = pendtimer_remove_lock_test_show_buf(test, &rl);
	KUNIT_EXPECT_NOT_NULL(test, strstr(buf, "holders: 0\n"));
	KUNIT_EXPECT_NOT_NULL(test, strstr(buf, "high_watermark: 2\n"));
	KUNIT_EXPECT_FALSE(test, pendtimer_remove_lock_dead(&rl));
	pendtimer_remove_lock_kill_and_wait(&rl);
	KUNIT_EXPECT_EQ(test, atomic_read(&rl.count), 0);
	buf = pendtimer_remove_lock_test_show_buf(test, &rl);
	KUNIT_EXPECT_NOT_NULL(test, strstr(buf, "removing: 1\nholders: 0\n"));
}

/* Tracking on: listed with entry point, unlisted on exit, hold timed. */
static void pendtimer_remove_lock_test_show(struct kunit *test)
{
	struct pendtimer_remove_lock rl;
	struct pendtimer_remove_lock_holder a, b;
	char *buf;

	pendtimer_remove_lock_track(true);
	KUNIT_ASSERT_TRUE(test, pendtimer_remove_lock_tracking());
	pendtimer_remove_lock_init(&rl);
	KUNIT_EXPECT_EQ(test, pendtimer_remove_lock_enter(&rl, &a, "a"), 0);
	KUNIT_EXPECT_EQ(test, pendtimer_remove_lock_enter(&rl, &b, "b"), 0);
	KUNIT_EXPECT_TRUE(test, a.listed);
	KUNIT_EXPECT_TRUE(test, b.listed);
	KUNIT_EXPECT_EQ(test, pendtimer_remove_lock_test_nr_listed(&rl), 2U);
	buf = pendtimer_remove_lock_test_show_buf(test, &rl);
	KUNIT_EXPECT_NOT_NULL(test, strstr(buf, "holders: 2\n"));
	KUNIT_EXPECT_NOT_NULL(test, strstr(buf, "high_watermark: 2\n"));
	KUNIT_EXPECT_NOT_NULL(test, strstr(buf, " entry a held_ns "));
	KUNIT_EXPECT_NOT_NULL(test, strstr(buf, " entry b held_ns "));
	msleep(20);
	pendtimer_remove_lock_exit(&rl, &b);
	KUNIT_EXPECT_EQ(test, pendtimer_remove_lock_test_nr_listed(&rl), 1U);
	pendtimer_remove_lock_exit(&rl, &a);
	KUNIT_EXPECT_EQ(test, pendtimer_remove_lock_test_nr_listed(&rl), 0U);
	KUNIT_EXPECT_EQ(test, atomic_read(&rl.count), 1);
	KUNIT_EXPECT_GE(test, rl.max_hold_ns, 20ULL * NSEC_PER_MSEC);
	/* refused after the kill: neither counted nor listed */
	pendtimer_remove_lock_kill(&rl);
	KUNIT_EXPECT_EQ(test, pendtimer_remove_lock_enter(&rl, &a, "late"), -ENODEV);
	KUNIT_EXPECT_EQ(test, atomic_read(&rl.count), 1);
	KUNIT_EXPECT_EQ(test, pendtimer_remove_lock_test_nr_listed(&rl), 0U);
	pendtimer_remove_lock_drain(&rl);
	KUNIT_EXPECT_EQ(test, atomic_read(&rl.count), 0);
}

/*
 * SPEC.md section 4: a holder that entered before tracking was switched on
 * is counted but not listed, and its exit with tracking on leaves the list
 * alone; a listed holder whose exit comes after tracking was switched off
 * is still unlisted.
 */
static void pendtimer_remove_lock_test_track_switched(struct kunit *test)
{
	struct pendtimer_remove_lock rl;
	struct pendtimer_remove_lock_holder early, late;
	char *buf;

	pendtimer_remove_lock_init(&rl);
	KUNIT_EXPECT_EQ(test, pendtimer_remove_lock_enter(&rl, &early, "early"), 0);
	pendtimer_remove_lock_track(true);
	KUNIT_EXPECT_EQ(test, pendtimer_remove_lock_enter(&rl, &late, "late"), 0);
	KUNIT_EXPECT_FALSE(test, early.listed);
	KUNIT_EXPECT_TRUE(test, late.listed);
	buf = pendtimer_remove_lock_test_show_buf(test, &rl);
	KUNIT_EXPECT_NOT_NULL(test, strstr(buf, "holders: 2\n"));
	KUNIT_EXPECT_NOT_NULL(test, strstr(buf, "high_watermark: 2\n"));
	KUNIT_EXPECT_NOT_NULL(test, strstr(buf, " entry late held_ns "));
	KUNIT_EXPECT_NULL(test, strstr(buf, " entry early "));
	/* the unlisted one leaves first, with tracking on */
	pendtimer_remove_lock_exit(&rl, &early);
	KUNIT_EXPECT_EQ(test, atomic_read(&rl.count), 2);
	KUNIT_EXPECT_EQ(test, pendtimer_remove_lock_test_nr_listed(&rl), 1U);
	KUNIT_EXPECT_EQ(test, rl.max_hold_ns, 0ULL);
	buf = pendtimer_remove_lock_test_show_buf(test, &rl);
	KUNIT_EXPECT_NOT_NULL(test, strstr(buf, "holders: 1\n"));
	KUNIT_EXPECT_NOT_NULL(test, strstr(buf, " entry late held_ns "));
	/* the listed one leaves after tracking is off again */
	pendtimer_remove_lock_track(false);
	pendtimer_remove_lock_exit(&rl, &late);
	KUNIT_EXPECT_EQ(test, pendtimer_remove_lock_test_nr_listed(&rl), 0U);
	KUNIT_EXPECT_TRUE(test, list_empty(&rl.holders));
	KUNIT_EXPECT_GT(test, rl.max_hold_ns, 0ULL);
	buf = pendtimer_remove_lock_test_show_buf(test, &rl);
	KUNIT_EXPECT_NOT_NULL(test, strstr(buf, "holders: 0\n"));
	KUNIT_EXPECT_NULL(test, strstr(buf, "holder: "));
	pendtimer_remove_lock_kill_and_wait(&rl);
	KUNIT_EXPECT_EQ(test, atomic_read(&rl.count), 0);
}

static void pendtimer_remove_lock_test_enter_after_kill(struct kunit *test)
{
	struct pendtimer_remove_lock rl;
	struct pendtimer_remove_lock_holder h;

	pendtimer_remove_lock_init(&rl);
	pendtimer_remove_lock_kill(&rl);
	KUNIT_EXPECT_TRUE(test, pendtimer_remove_lock_dead(&rl));
	KUNIT_EXPECT_EQ(test, pendtimer_remove_lock_enter(&rl, &h, "late"), -ENODEV);
	KUNIT_EXPECT_EQ(test, atomic_read(&rl.count), 1);
	KUNIT_EXPECT_EQ(test, atomic_read(&rl.high_watermark), 0);
	/* No holder: the drain returns at once with the count at zero. */
	pendtimer_remove_lock_drain(&rl);
	KUNIT_EXPECT_EQ(test, atomic_read(&rl.count), 0);
}

struct pendtimer_remove_lock_test_holder {
	struct pendtimer_remove_lock *rl;
	struct completion entered;
	unsigned int hold_ms;
	u8 exited;	/* not bool, for KCSAN: request.c, pendtimer_waiter */
};

static int pendtimer_remove_lock_test_thread(void *data)
{
	struct pendtimer_remove_lock_test_holder *t = data;
	struct pendtimer_remove_lock_holder h;

	if (pendtimer_remove_lock_enter(t->rl, &h, "kunit thread")) {
		complete(&t->entered);
		return -ENODEV;
	}
	complete(&t->entered);
	msleep(t->hold_ms);
	WRITE_ONCE(t->exited, 1);
	pendtimer_remove_lock_exit(t->rl, &h);
	return 0;
}

static void pendtimer_remove_lock_test_drain_waits(struct kunit *test)
{
	struct pendtimer_remove_lock_test_holder t = { .hold_ms = 50 };
	struct pendtimer_remove_lock rl;
	struct task_struct *task;
	struct pendtimer_remove_lock_holder h;

	pendtimer_remove_lock_track(true);
	pendtimer_remove_lock_init(&rl);
	t.rl = &rl;
	init_completion(&t.entered);
	task = kthread_run(pendtimer_remove_lock_test_thread, &t, "pt_remove_kunit");
	KUNIT_ASSERT_FALSE(test, IS_ERR(task));
	wait_for_completion(&t.entered);

	pendtimer_remove_lock_kill(&rl);
	/* The holder is inside: a new entry is refused, the drain waits. */
	KUNIT_EXPECT_EQ(test, pendtimer_remove_lock_enter(&rl, &h, "late"), -ENODEV);
	pendtimer_remove_lock_drain(&rl);
	KUNIT_EXPECT_TRUE(test, READ_ONCE(t.exited));
	KUNIT_EXPECT_EQ(test, atomic_read(&rl.count), 0);
	KUNIT_EXPECT_GE(test, rl.max_hold_ns, 50ULL * NSEC_PER_MSEC);
}

/* The drain waits for an unlisted holder too (tracking off). */
static void pendtimer_remove_lock_test_drain_waits_untracked(struct kunit *test)
{
	struct pendtimer_remove_lock_test_holder t = { .hold_ms = 50 };
	struct pendtimer_remove_lock rl;
	struct task_struct *task;
	char *buf;

	pendtimer_remove_lock_init(&rl);
	t.rl = &rl;
	init_completion(&t.entered);
	task = kthread_run(pendtimer_remove_lock_test_thread, &t, "pt_remove_kunit");
	KUNIT_ASSERT_FALSE(test, IS_ERR(task));
	wait_for_completion(&t.entered);

	pendtimer_remove_lock_kill(&rl);
	buf = pendtimer_remove_lock_test_show_buf(test, &rl);
	KUNIT_EXPECT_NOT_NULL(test, strstr(buf, "removing: 1\nholders: 1\n"));
	pendtimer_remove_lock_drain(&rl);
	KUNIT_EXPECT_TRUE(test, READ_ONCE(t.exited));
	KUNIT_EXPECT_EQ(test, atomic_read(&rl.count), 0);
	KUNIT_EXPECT_EQ(test, rl.max_hold_ns, 0ULL);
}

static void pendtimer_remove_lock_test_exit(struct kunit *test)
{
	pendtimer_remove_lock_track(false);
}

/* track_holders as the suite found it */
static bool pendtimer_remove_lock_test_was_tracking;

static int pendtimer_remove_lock_test_suite_init(struct kunit_suite *suite)
{
	pendtimer_remove_lock_test_was_tracking = pendtimer_remove_lock_tracking();
	pendtimer_remove_lock_track(false);
	return 0;
}

static void pendtimer_remove_lock_test_suite_exit(struct kunit_suite *suite)
{
	pendtimer_remove_lock_track(pendtimer_remove_lock_test_was_tracking);
}

static struct kunit_case pendtimer_remove_lock_test_cases[] = {
	KUNIT_CASE(pendtimer_remove_lock_test_enter_exit),
	KUNIT_CASE(pendtimer_remove_lock_test_enter_after_kill),
	KUNIT_CASE(pendtimer_remove_lock_test_show),
	KUNIT_CASE(pendtimer_remove_lock_test_track_switched),
	KUNIT_CASE(pendtimer_remove_lock_test_drain_waits),
	KUNIT_CASE(pendtimer_remove_lock_test_drain_waits_untracked),
	{}
};

static struct kunit_suite pendtimer_remove_lock_test_suite = {
	.name = "pendtimer_remove_lock",
	.suite_init = pendtimer_remove_lock_test_suite_init,
	.suite_exit = pendtimer_remove_lock_test_suite_exit,
	.exit = pendtimer_remove_lock_test_exit,
	.test_cases = pendtimer_remove_lock_test_cases,
};

kunit_test_suite(pendtimer_remove_lock_test_suite);

MODULE_DESCRIPTION("KUnit tests for the pendtimer remove lock");
MODULE_LICENSE("GPL");
PENDTIMER_IMPORT_KUNIT_NS();
