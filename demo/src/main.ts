/**
 * The demo page's entry point: tfjs's backend first (./backend.ts), then the two views and their tabs. A failure to
 * start shows on the page.
 */
import { initBackend } from './backend.js';
import { messageOf } from './checks.js';
import { InferView } from './infer.js';
import { byId, showMessage } from './page.js';
import { TrainView } from './train.js';

function showTab(name: 'train' | 'infer'): void {
  for (const tab of ['train', 'infer'] as const) {
    byId(`${tab}-view`).hidden = tab !== name;
    byId(`tab-${tab}`).classList.toggle('active', tab === name);
  }
}

async function main(): Promise<void> {
  try {
    const requested = new URLSearchParams(location.search).get('backend');
    const backend = await initBackend(requested);
    byId('backend').textContent = backend;
    new TrainView();
    new InferView();
    byId('tab-train').addEventListener('click', () => showTab('train'));
    byId('tab-infer').addEventListener('click', () => showTab('infer'));
    showTab(location.hash === '#infer' ? 'infer' : 'train');
    document.body.dataset.ready = 'true';
  } catch (e) {
    showMessage('page-message', messageOf(e));
  }
}

void main();
