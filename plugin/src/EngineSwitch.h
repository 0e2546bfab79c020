// Hands engines to the audio thread and swaps them with a short crossfade.
//
// The loader thread builds an Engine (slow: torch::jit::load, allocations, a trial run) and
// offer()s it; the audio thread picks it up with one atomic exchange and fades from the old
// engine (or the plain dry signal when there was none) to the new one. The old engine is
// parked in `retired` and deleted later by collect() on a non-audio thread, so the audio
// thread never allocates, frees or locks.
#pragma once

#include "Engine.h"

#include <atomic>
#include <semaphore>
#include <vector>

namespace nnplug {

class EngineSwitch
{
public:
    ~EngineSwitch() { clear(); }

    // Audio stopped (prepareToPlay/releaseResources): size the scratch buffers.
    void prepare (int channels, int maxBlock, int fadeSamples);

    // Audio stopped: replace everything with `e` (may be null) at once, no fade.
    void installNow (Engine* e);

    // Any thread: queue `e` to take over with a crossfade. A previously offered engine that
    // the audio thread has not taken yet is deleted here. Before the first process() after
    // installNow(), and at a restart, there is no stream to stay continuous with: `e` takes
    // over at once (a state restored before playback plays from its first sample).
    void offer (Engine* e);

    // Any thread: drop the current engine (a failed load); the dry signal passes after.
    void offerNone() { dropActive.store (true, std::memory_order_release); }

    // Non-audio thread: delete engines the audio thread has finished with.
    void collect();

    // Audio stopped: `s` (may be null) is released on the audio thread each time an engine is
    // retired, so that a thread waiting on it can collect() without polling.
    void setRetiredSignal (std::counting_semaphore<>* s) { retiredSignal = s; }

    // Audio thread.
    void process (float* const* io, int channels, int numSamples, bool offline) noexcept;
    void requestRestart() noexcept { restart.store (true, std::memory_order_release); }

    // The engine whose output is heard (or fading in). Read on the message thread for display;
    // valid until the next collect() on the same thread.
    Engine* current() const { return shown.load (std::memory_order_acquire); }
    bool fading() const { return fadingNow.load (std::memory_order_acquire); }

private:
    std::atomic<Engine*> pending { nullptr }, retired { nullptr }, shown { nullptr };
    std::atomic<bool> restart { false }, fadingNow { false }, dropActive { false };
    bool started = false;   // audio thread: a block was processed since installNow()
    Engine* active = nullptr;
    Engine* incoming = nullptr;
    int fadePos = 0, fadeLen = 1;
    int channels = 0, maxBlock = 0;
    std::vector<std::vector<float>> scratch;
    std::vector<float*> scratchPtr;
    std::counting_semaphore<>* retiredSignal = nullptr;

    void clear();
    void retire (Engine* e) noexcept;   // audio thread: hands `e` (may be null) to collect()
};

} // namespace nnplug
