// SPDX-License-Identifier: GPL-2.0
/*
 * Replacement for net/ipv4/tcp_scalable.c:tcp_scalable_ssthresh that keeps
 * the slow-start threshold at two segments or more, for sockets that run
 * this module's congestion control. tcp_scalable, the module's
 * tcp_congestion_ops, is static: the reference is resolved by the livepatch
 * core through a .klp.rela.tcp_scalable section when the module is (or
 * comes) loaded.
 */
#include <linux/minmax.h>
#include <net/inet_connection_sock.h>
#include <net/tcp.h>

#define TCP_SCALABLE_MD_SCALE	3

extern struct tcp_congestion_ops tcp_scalable;

u32 klpc_tcp_scalable_ssthresh(struct sock *sk);

u32 klpc_tcp_scalable_ssthresh(struct sock *sk)
{
	const struct tcp_sock *tp = tcp_sk(sk);

	if (inet_csk(sk)->icsk_ca_ops != &tcp_scalable)
		return tcp_reno_ssthresh(sk);
	return max(tcp_snd_cwnd(tp) - (tcp_snd_cwnd(tp) >> TCP_SCALABLE_MD_SCALE), 2U);
}
