// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests of the pendtimer remove lock, built as pendtimer_kunit.ko
 * on kernels with CONFIG_KUNIT=y (the debug lane). The unit is compiled
 * into this module from its own source: it knows nothing of requests.
 */
#include <kunit/test.h>
#include <linux/delay.h>
#include <linux/kthread.h>
#include <linux/seq_file.h>

#include "rlock.c"

static void pendtimer_rlock_test_enter_exit(struct kunit *test)
{
	struct pendtimer_rlock rl;
	struct pendtimer_rlock_holder a, b;

	pendtimer_rlock_init(&rl);
	KUNIT_EXPECT_EQ(test, pendtimer_rlock_enter(&rl, &a, "a"), 0);
	KUNIT_EXPECT_EQ(test, pendtimer_rlock_enter(&rl, &b, "b"), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&rl.count), 3);
	KUNIT_EXPECT_EQ(test, rl.nr_holders, 2U);
	pendtimer_rlock_exit(&rl, &b);
	pendtimer_rlock_exit(&rl, &a);
	KUNIT_EXPECT_EQ(test, atomic_read(&rl.count), 1);
	KUNIT_EXPECT_EQ(test, rl.high_watermark, 2U);
	KUNIT_EXPECT_EQ(test, rl.nr_holders, 0U);
	KUNIT_EXPECT_FALSE(test, pendtimer_rlock_dead(&rl));
	pendtimer_rlock_kill_and_wait(&rl);
	KUNIT_EXPECT_EQ(test, atomic_read(&rl.count), 0);
}

static void pendtimer_rlock_test_enter_after_kill(struct kunit *test)
{
	struct pendtimer_rlock rl;
	struct pendtimer_rlock_holder h;

	pendtimer_rlock_init(&rl);
	pendtimer_rlock_kill(&rl);
	KUNIT_EXPECT_TRUE(test, pendtimer_rlock_dead(&rl));
	KUNIT_EXPECT_EQ(test, pendtimer_rlock_enter(&rl, &h, "late"), -ENODEV);
	KUNIT_EXPECT_EQ(test, atomic_read(&rl.count), 1);
	KUNIT_EXPECT_EQ(test, rl.nr_holders, 0U);
	/* No holder: the drain returns at once with the count at zero. */
	pendtimer_rlock_drain(&rl);
	KUNIT_EXPECT_EQ(test, atomic_read(&rl.count), 0);
}

struct pendtimer_rlock_test_holder {
	struct pendtimer_rlock *rl;
	struct completion entered;
	unsigned int hold_ms;
	bool exited;
};

static int pendtimer_rlock_test_thread(void *data)
{
	struct pendtimer_rlock_test_holder *t = data;
	struct pendtimer_rlock_holder h;

	if (pendtimer_rlock_enter(t->rl, &h, "kunit thread")) {
		complete(&t->entered);
		return -ENODEV;
	}
	complete(&t->entered);
	msleep(t->hold_ms);
	WRITE_ONCE(t->exited, true);
	pendtimer_rlock_exit(t->rl, &h);
	return 0;
}

static void pendtimer_rlock_test_drain_waits(struct kunit *test)
{
	struct pendtimer_rlock_test_holder t = { .hold_ms = 50 };
	struct pendtimer_rlock rl;
	struct task_struct *task;
	struct pendtimer_rlock_holder h;

	pendtimer_rlock_init(&rl);
	t.rl = &rl;
	init_completion(&t.entered);
	task = kthread_run(pendtimer_rlock_test_thread, &t, "pt_rlock_kunit");
	KUNIT_ASSERT_FALSE(test, IS_ERR(task));
	wait_for_completion(&t.entered);

	pendtimer_rlock_kill(&rl);
	/* The holder is inside: a new entry is refused, the drain waits. */
	KUNIT_EXPECT_EQ(test, pendtimer_rlock_enter(&rl, &h, "late"), -ENODEV);
	pendtimer_rlock_drain(&rl);
	KUNIT_EXPECT_TRUE(test, READ_ONCE(t.exited));
	KUNIT_EXPECT_EQ(test, atomic_read(&rl.count), 0);
	KUNIT_EXPECT_GE(test, rl.max_hold_ns, 50ULL * NSEC_PER_MSEC);
}

static void pendtimer_rlock_test_show(struct kunit *test)
{
	struct pendtimer_rlock rl;
	struct pendtimer_rlock_holder h;
	struct seq_file m = { };
	char *buf;

	buf = kunit_kzalloc(test, PAGE_SIZE, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, buf);
	m.buf = buf;
	m.size = PAGE_SIZE;

	pendtimer_rlock_init(&rl);
	KUNIT_ASSERT_EQ(test, pendtimer_rlock_enter(&rl, &h, "shown"), 0);
	pendtimer_rlock_show(&rl, &m);
	KUNIT_EXPECT_NOT_NULL(test, strstr(buf, "holders: 1"));
	KUNIT_EXPECT_NOT_NULL(test, strstr(buf, "entry shown"));
	KUNIT_EXPECT_NOT_NULL(test, strstr(buf, "high_watermark: 1"));
	pendtimer_rlock_exit(&rl, &h);
	pendtimer_rlock_kill_and_wait(&rl);
}

static struct kunit_case pendtimer_rlock_test_cases[] = {
	KUNIT_CASE(pendtimer_rlock_test_enter_exit),
	KUNIT_CASE(pendtimer_rlock_test_enter_after_kill),
	KUNIT_CASE(pendtimer_rlock_test_drain_waits),
	KUNIT_CASE(pendtimer_rlock_test_show),
	{}
};

static struct kunit_suite pendtimer_rlock_test_suite = {
	.name = "pendtimer_rlock",
	.test_cases = pendtimer_rlock_test_cases,
};

kunit_test_suite(pendtimer_rlock_test_suite);

MODULE_DESCRIPTION("KUnit tests for the pendtimer remove lock");
MODULE_LICENSE("GPL");
