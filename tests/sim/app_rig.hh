#pragma once
// One simulated endpoint's core as run_app runs it: the swarm's engine, the
// API layer's poll hook and a handler of type H, polled by the world. It
// must outlive the polling, so it stays where it was built; its destructor
// detaches it from the world.
#include <memory>
#include <vector>

#include "api/app.hh"
#include "sim_world.hh"
#include "tcp_swarm.hh"

namespace kbt::sim {

template <class H>
struct app_rig {
  sim_world& world;
  side where;
  std::vector<api::detail::app_core<H>> cores;

  app_rig(sim_world& w, side s, tcp_swarm& host, H handler) : world(w), where(s), cores(1) {
    api::detail::init_core(cores[0], host.engine(), w.pool(s), 0);
    cores[0].handler = std::make_unique<H>(std::move(handler));
    w.set_poll(s, [this, &host](std::uint64_t now) {
      host.engine().poll(base::instant_from_ns(now), &api::detail::poll_hook<H>, &cores);
    });
  }
  ~app_rig() { world.set_poll(where, nullptr); }
  app_rig(const app_rig&) = delete;
  app_rig& operator=(const app_rig&) = delete;

  api::core_context& ctx() noexcept { return cores[0].ctx; }
  H& handler() noexcept { return *cores[0].handler; }
};

}  // namespace kbt::sim
