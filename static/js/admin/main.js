/**
 * The admin page (/admin), wired: sign in with the admin token, retrain, follow the job live,
 * manage model versions, review user drawings, see the active model's mistakes.
 *
 * - Each part is a module that is handed what it needs: its elements, the API client, the part
 *   of the page's state it works on, and callbacks to the other parts. The state is created
 *   here and nowhere else; no module keeps state of its own at module level.
 * - Facts that the server owns (which job statuses are final, the gate's tolerance) are read
 *   from the page's #admin-facts JSON block (templates/admin.html), never written here.
 * - Signed in, the console loads the models, the user drawings and the job history, and follows
 *   a running job (or shows the last one). Every 5 s the history is reloaded while no job is
 *   followed live, so that a job started elsewhere (the API, another tab) is picked up.
 */

import { createApi } from "./api.js";
import { createCharts } from "./charts.js";
import { byRole } from "./dom.js";
import { createForceConfirm } from "./force.js";
import { createTrainForm } from "./form.js";
import { createHistory } from "./history.js";
import { createInsights } from "./insights.js";
import { createJob } from "./job.js";
import { createModels } from "./models.js";
import { createReview } from "./review.js";
import { createSignin } from "./signin.js";

const facts = JSON.parse(document.getElementById("admin-facts").textContent);
const finalStatuses = new Set(facts.final_statuses);

const state = {
  // The job shown in the job card; the charts draw its series ([x, y] with x in epochs).
  job: { id: null, status: "idle", loss: [], train: [], val: [], epochs: 1 },
  review: { page: 1, pages: 1 }, // the page of user drawings shown
  insights: { version: null }, // the model whose test-set mistakes are shown (or loading)
};

const signin = createSignin({
  root: document,
  storage: sessionStorage,
  onUnlock: () => start(),
  onSignOut: () => job.stop(),
});
const api = createApi({ getToken: signin.token, onSignedOut: signin.signOut });
const quietly = (promise) => promise.catch(() => {});

const jobHistory = createHistory({ root: document, api });
const insights = createInsights({ root: document, api, state: state.insights });
const models = createModels({ root: document, api, onServing: insights.show });
const form = createTrainForm({
  form: byRole(document, "train-form"),
  api,
  confirmForce: createForceConfirm({
    getActive: models.active,
    tolerancePp: facts.gate_tolerance_pp,
  }),
  isBusy: () => state.job.status === "queued" || state.job.status === "running",
  onStarted: (id) => {
    job.watch(id, true);
    job.focus(); // Start is disabled while the job runs: follow it from the job card
    quietly(jobHistory.refresh());
  },
  onRunning: (id) => job.watch(id),
});
const review = createReview({
  root: document.querySelector("[data-testid=feedback-review]"),
  api,
  state: state.review,
  onCounts: (counts) => form.showFeedbackCount(counts.total),
});
const charts = createCharts({
  loss: byRole(document, "loss-chart"),
  accuracy: byRole(document, "acc-chart"),
  job: state.job,
});
const job = createJob({
  root: byRole(document, "job"),
  job: state.job,
  finalStatuses,
  api,
  charts,
  onBusy: form.setBusy,
  onChange: () => quietly(jobHistory.refresh()),
  onPhase: () => insights.retry(),
  onFinished: () => quietly(models.refresh()),
});

/** How soon a console that could not be loaded (the server's database down, say) is asked
 * for again, while the token is kept: a reload during an outage once stayed on the sign-in
 * card after the database was back. */
const START_RETRY_MS = 3000;
let startAgain = 0;

/** The token was entered (or kept in this tab): check it by loading the console. */
async function start() {
  clearTimeout(startAgain);
  try {
    await models.refresh();
  } catch (e) {
    if (!e.signedOut) {
      signin.fail(e.message);
      startAgain = setTimeout(() => signin.token() && start(), START_RETRY_MS);
    }
    return;
  }
  signin.signedIn();
  review.reload(); // a failure is said in the panel
  const jobs = await jobHistory.refresh().catch(() => null);
  const running = jobs?.running || jobs?.jobs?.[0]?.id;
  if (running) job.watch(running);
}

if (signin.token()) start();
else signin.locked();

setInterval(() => {
  if (byRole(document, "console").hidden || document.hidden) return;
  const { status } = state.job;
  if (!finalStatuses.has(status) && status !== "idle") return; // the stream keeps it current
  quietly(
    jobHistory
      .refresh()
      .then((d) => d.running && d.running !== state.job.id && job.watch(d.running)),
  );
}, 5000);

document.documentElement.classList.add("js-ready");
