/**
 * The training job card: one job at a time, its status, progress, figures and Cancel.
 *
 * - watch(id, fresh) shows job `id`. A job just started (fresh) or still running is followed
 *   over its event stream. A finished one is drawn at once from its record (one point an
 *   epoch), then again from its stored stream, read to the end, so that its curves have every
 *   point drawn live (a one-epoch job's are more than a dot); if the stream cannot be read, or
 *   holds fewer epochs than the record, the record's stay. Watching the job already followed
 *   (or being replayed) does nothing; a later watch() or stop() supersedes one still loading.
 * - Every batch and epoch event moves the progress bar and the figures (epoch, loss, validation
 *   accuracy, elapsed, ETA) and adds to the series of `job` that the charts draw. Status and
 *   phase events set the status pill; a final status shows the job's reason, and the notes
 *   the run made on the way (a short run's smaller batches, drawings it could not read). A job
 *   on a fresh install first fetches MNIST: its `fetch` events (a step, or a download's bytes)
 *   fill the job's line. A model promoted by Force below the gate is shown in the warning
 *   colour, and says so, not as a plain "succeeded".
 * - `job` is the page's state of the shown job (created in main.js): its id, status, series and
 *   epoch count. Statuses are the server's; `finalStatuses` says which ones end a job.
 * - Callbacks: onBusy(busy) when a job starts or stops being queued or running; onChange()
 *   when the job history is worth reloading; onPhase(phase) when a running job starts a phase;
 *   onFinished() when the job reached a final status.
 * - Cancel asks the server to stop the job; its final status then arrives on the stream.
 *   stop() stops following (at sign-out). focus() puts the keyboard focus on the card's heading
 *   (a job just started; Cancel pressed, which then goes away).
 */

import { byRole, node } from "./dom.js";
import { duration, forcedBelowGate, pct, when } from "./format.js";

const isBusy = (status) => status === "queued" || status === "running";

/**
 * @param {object} options
 * @param {ParentNode} options.root the job card
 * @param {{id: string|null, status: string, loss: number[][], train: number[][],
 *          val: number[][], epochs: number}} options.job
 * @param {Set<string>} options.finalStatuses
 * @param {ReturnType<import("./api.js").createApi>} options.api
 * @param {ReturnType<import("./charts.js").createCharts>} options.charts
 * @param {(busy: boolean) => void} options.onBusy
 * @param {() => void} options.onChange
 * @param {(phase: string) => void} [options.onPhase]
 * @param {() => void} options.onFinished
 */
export function createJob({
  root,
  job,
  finalStatuses,
  api,
  charts,
  onBusy,
  onChange,
  onPhase = () => {},
  onFinished,
}) {
  const pill = root.querySelector("[data-testid=job-status]");
  const line = byRole(root, "job-line");
  const progress = byRole(root, "progress");
  const progressText = byRole(root, "progress-text");
  const stats = ["epoch", "loss", "val", "elapsed", "eta"].map((s) => byRole(root, `stat-${s}`));
  const [statEpoch, statLoss, statVal, statElapsed, statEta] = stats;
  const reason = byRole(root, "job-reason");
  const notes = byRole(root, "job-notes");
  const cancel = byRole(root, "cancel");
  const heading = root.querySelector("h2");
  heading.tabIndex = -1; // focusable from the script, not a tab stop
  let following = null; // the AbortController of the stream being read
  let turns = 0; // watch() and stop() calls so far: a watch that was superseded drops out

  function setStatus(status, phase) {
    job.status = status;
    // The pill is a status region: it is read out when its words change, and only then.
    const words = status === "running" && phase ? `running · ${phase}` : status;
    if (pill.textContent !== words) pill.textContent = words;
    pill.dataset.status = status;
    root.dataset.state = status;
    cancel.hidden = !isBusy(status);
    onBusy(isBusy(status));
  }

  /** The run's notes, one item each; the list is hidden when there are none. */
  function showNotes(list = []) {
    notes.replaceChildren(...list.map((text) => node("li", { text })));
    notes.hidden = list.length === 0;
  }

  /** How the job ended: its status (forced below the gate in its own colour), reason and notes. */
  function showEnd(status, why, result, runNotes) {
    setStatus(status);
    const forced = status === "succeeded" && forcedBelowGate(result);
    if (forced) {
      pill.textContent = "succeeded · forced below the gate";
      pill.dataset.status = "forced";
      root.dataset.state = "forced"; // the progress bar in the warning colour too
    }
    reason.textContent = why || "";
    reason.classList.toggle("is-warning", forced);
    statEta.textContent = "–";
    showNotes(runNotes);
  }

  /** A step of fetching MNIST on a fresh install, in the job's line. */
  function onFetch(e) {
    if (e.message) {
      line.textContent = `Fetching MNIST: ${e.message}`;
    } else if (e.total) {
      const share = Math.floor((100 * e.done) / e.total);
      line.textContent = `Fetching MNIST: ${e.file}, ${share}% of ${(e.total / 1e6).toFixed(1)} MB`;
    }
  }
  function reset(id) {
    Object.assign(job, { id, loss: [], train: [], val: [], epochs: 1 });
    progress.value = 0;
    progressText.textContent = "0%";
    for (const s of stats) s.textContent = "–";
    reason.textContent = "";
    reason.classList.remove("is-warning");
    showNotes();
    charts.draw();
  }

  /** Draw the series again from progress events (epoch events, or the stream's batch ones too). */
  function redraw(events) {
    Object.assign(job, { loss: [], train: [], val: [] });
    for (const e of events) onProgress(e);
  }

  function onProgress(e) {
    const x = e.epoch - 1 + e.batch_fraction;
    job.epochs = e.epochs;
    job.loss.push([x, e.loss]);
    job.train.push([x, e.train_accuracy]);
    if (e.kind === "epoch" && e.validation_accuracy != null)
      job.val.push([x, e.validation_accuracy]);
    const done = x / e.epochs;
    progress.value = done;
    progressText.textContent = `${Math.floor(done * 100)}%`;
    statEpoch.textContent = `${e.epoch} / ${e.epochs}`;
    statLoss.textContent = e.loss.toFixed(4);
    if (e.validation_accuracy != null) statVal.textContent = pct(e.validation_accuracy);
    statElapsed.textContent = duration(e.elapsed);
    // A job that has ended (cancelled, failed) has nothing left to wait for.
    statEta.textContent = done >= 1 || finalStatuses.has(job.status) ? "–" : duration(e.eta);
    charts.schedule();
  }

  function onEvent({ type, data }) {
    if (type === "status") {
      setStatus(data.status);
      if (data.status === "running") {
        line.textContent = `Job ${job.id} is running.`;
        onChange();
      }
      if (finalStatuses.has(data.status)) {
        showEnd(data.status, data.reason, data.result, data.notes);
        line.textContent = `Job ${job.id} ${data.status}.`;
        if (data.status === "succeeded") {
          progress.value = 1;
          progressText.textContent = "100%";
          statEta.textContent = "–";
        }
        onFinished();
        onChange();
      }
    } else if (type === "phase") {
      if (job.status === "running") setStatus("running", data.phase);
      onPhase(data.phase);
    } else if (type === "fetch") {
      onFetch(data);
    } else if (type === "batch" || type === "epoch") {
      onProgress(data);
      if (type === "epoch") onChange();
    }
  }

  const isFinal = (e) => e.type === "status" && finalStatuses.has(e.data.status);
  const eventsOf = (id) => `/api/admin/jobs/${encodeURIComponent(id)}/events`;

  function follow(id) {
    stop();
    following = new AbortController();
    api.events(eventsOf(id), { onEvent, isLast: isFinal, signal: following.signal });
  }

  /** A finished job's stored stream, read to its end: its curves redrawn as they were live,
   * unless it holds fewer epochs than the `epochs` its record's history has drawn. */
  async function replay(id, epochs) {
    stop();
    const replaying = new AbortController();
    following = replaying;
    const progressEvents = [];
    const outcome = await api.events(eventsOf(id), {
      onEvent: ({ type, data }) => {
        if (type === "batch" || type === "epoch") progressEvents.push(data);
      },
      isLast: isFinal,
      signal: replaying.signal,
    });
    const stillShown = following === replaying && job.id === id; // not another job meanwhile
    if (following === replaying) following = null;
    const streamEpochs = progressEvents.filter((e) => e.kind === "epoch").length;
    if (stillShown && outcome === "done" && streamEpochs >= epochs) {
      redraw(progressEvents);
      charts.draw();
    }
  }

  function stop() {
    turns += 1;
    following?.abort();
    following = null;
  }

  async function watch(id, fresh = false) {
    if (job.id === id && following && !fresh) return;
    const turn = ++turns;
    reset(id);
    setStatus(fresh ? "queued" : "…");
    line.textContent = `Job ${id}`;
    if (!fresh) {
      let record;
      try {
        record = await api.json(`/api/admin/jobs/${encodeURIComponent(id)}`);
      } catch {
        return;
      }
      if (turn !== turns) return; // another job was chosen, or the admin signed out, meanwhile
      if (finalStatuses.has(record.status)) {
        redraw(record.history || []);
        showEnd(record.status, record.reason, record.result, record.notes);
        line.textContent = `Last job ${id} ${record.status} ${when(record.finished)}.`;
        if (!record.history?.length) progressText.textContent = "–";
        replay(id, record.history?.length ?? 0);
        return;
      }
    }
    follow(id);
  }

  cancel.addEventListener("click", async () => {
    if (!job.id) return;
    cancel.disabled = true;
    try {
      await api.json(`/api/admin/jobs/${encodeURIComponent(job.id)}/cancel`, { method: "POST" });
      reason.textContent = "Cancelling…";
      cancel.disabled = false;
      heading.focus(); // Cancel goes away when the job ends
    } catch (e) {
      if (!e.signedOut) reason.textContent = e.message;
      cancel.disabled = false;
      (cancel.hidden ? heading : cancel).focus(); // (hidden: the job ended meanwhile)
    }
  });

  setStatus("idle");
  charts.draw();
  return { watch, stop, focus: () => heading.focus() };
}
