/**
 * The administrator's part of the page: sign in with ADMIN_TOKEN, then Run
 * now, Pause / Resume and Reset checkpoint (with a review step that says what
 * the reset will do). Built once and updated in place, so the periodic
 * refresh never wipes what an admin is typing.
 */
import type { Checklist } from './api';
import { h, replace } from './dom';

export interface AdminActions {
  signIn(token: string): Promise<void>;
  signOut(): void;
  runNow(): Promise<void>;
  setPaused(paused: boolean): Promise<void>;
  reset(checkpoint: string | null): Promise<void>;
  /** The setup check (POST /check); null when the service refused it. */
  check(sendTest: boolean): Promise<Checklist | null>;
}

export interface AdminState {
  signedIn: boolean;
  paused: boolean;
  checkpoint: string | null | undefined;
}

export type MessageKind = 'info' | 'ok' | 'error';

const LOG_ID = /^[A-Za-z0-9]{1,128}$/;

export function createAdminPanel(container: HTMLElement, actions: AdminActions) {
  let state: AdminState = { signedIn: false, paused: false, checkpoint: undefined };
  let busy = false;

  const message = h('p', { id: 'admin-message', class: 'message', role: 'status', 'aria-live': 'polite', hidden: true });
  const show = (kind: MessageKind, text: string): void => {
    message.className = `message message-${kind}`;
    message.textContent = text;
    message.hidden = text === '';
  };

  // Signed out: the token form.
  const tokenInput = h('input', { id: 'admin-token', type: 'password', autocomplete: 'off', spellcheck: 'false', required: true, 'aria-describedby': 'admin-token-help' });
  const signInButton = h('button', { type: 'submit', class: 'primary' }, 'Sign in');
  const signInForm = h('form', { class: 'signin', novalidate: true },
    h('label', { for: 'admin-token' }, 'Admin token'),
    h('div', { class: 'row' }, tokenInput, signInButton),
    h('p', { id: 'admin-token-help', class: 'help' }, 'The ADMIN_TOKEN setting. Kept for this browser tab only and sent as a header, never in a URL or cookie. Signed in, you see full errors and can run, pause and reset.'),
  );
  signInForm.addEventListener('submit', (event) => {
    event.preventDefault();
    const value = tokenInput.value.trim();
    if (value === '') {
      show('error', 'Enter the admin token.');
      tokenInput.focus();
      return;
    }
    void guard(async () => {
      await actions.signIn(value);
      tokenInput.value = '';
    });
  });

  // Signed in: the controls.
  const runButton = h('button', { type: 'button', class: 'primary', id: 'run-now' }, 'Run now');
  const pauseButton = h('button', { type: 'button', id: 'pause-toggle' }, 'Pause');
  const resetButton = h('button', { type: 'button', id: 'reset-open', 'aria-expanded': 'false', 'aria-controls': 'reset-panel' }, 'Reset checkpoint…');
  const signOutButton = h('button', { type: 'button', class: 'link', id: 'sign-out' }, 'Sign out');
  const checkpointText = h('code', { id: 'current-checkpoint' });
  // Check setup: the same checklist as the CLI's `check`, with a fix under each failure.
  const checkButton = h('button', { type: 'button', id: 'check-setup' }, 'Check setup');
  const sendTestBox = h('input', { type: 'checkbox', id: 'check-send-test' });
  const checkResults = h('ul', { id: 'check-results', class: 'checklist', 'aria-live': 'polite', hidden: true });
  checkButton.addEventListener('click', () =>
    void guard(async () => {
      const list = await actions.check(sendTestBox.checked);
      if (list === null) return;
      replace(checkResults, ...list.items.map((item) =>
        h('li', { class: `check-${item.status}` },
          h('strong', {}, `${item.status === 'ok' ? '✓' : item.status === 'failed' ? '✗' : '–'} ${item.name}`), `: ${item.detail}`,
          ...(item.fix === undefined ? [] : [h('div', { class: 'fix' }, `To fix: ${item.fix}`)]),
        ),
      ));
      checkResults.hidden = false;
      show(list.ok ? 'ok' : 'error', list.ok ? 'All checks passed.' : 'A check failed: its fix is under it.');
    }, checkButton, 'Checking…'),
  );
  runButton.addEventListener('click', () => void guard(() => actions.runNow(), runButton, 'Running…'));
  pauseButton.addEventListener('click', () => void guard(() => actions.setPaused(!state.paused), pauseButton, state.paused ? 'Resuming…' : 'Pausing…'));
  signOutButton.addEventListener('click', () => {
    closeReset();
    actions.signOut();
  });

  // Reset: choose the value, review it, confirm.
  const afterInput = h('input', { id: 'reset-to', type: 'text', inputmode: 'numeric', autocomplete: 'off', spellcheck: 'false', placeholder: 'a log_id, e.g. 9002026…' });
  const choiceAfter = h('input', { type: 'radio', name: 'reset-choice', id: 'reset-choice-after', value: 'after', checked: true });
  const choiceOldest = h('input', { type: 'radio', name: 'reset-choice', id: 'reset-choice-oldest', value: 'oldest' });
  const reviewButton = h('button', { type: 'submit', class: 'primary', id: 'reset-review' }, 'Review reset');
  const cancelButton = h('button', { type: 'button', id: 'reset-cancel' }, 'Cancel');
  const chooseForm = h('form', { class: 'reset-choose', novalidate: true },
    h('p', {}, 'The next run starts right after the checkpoint. Current checkpoint: ', checkpointText),
    h('div', { class: 'choice' }, choiceAfter, h('label', { for: 'reset-choice-after' }, 'Continue after this log id')),
    h('div', { class: 'choice-input' }, afterInput),
    h('div', { class: 'choice' }, choiceOldest, h('label', { for: 'reset-choice-oldest' }, 'Start again from the oldest log Auth0 still keeps')),
    h('div', { class: 'row' }, reviewButton, cancelButton),
  );
  const confirmText = h('p', { id: 'reset-confirm-text' });
  const confirmButton = h('button', { type: 'button', class: 'danger', id: 'reset-confirm' }, 'Confirm reset');
  const backButton = h('button', { type: 'button', id: 'reset-back' }, 'Back');
  const confirmBox = h('div', { class: 'reset-confirm', role: 'alertdialog', 'aria-labelledby': 'reset-confirm-text', hidden: true }, confirmText, h('div', { class: 'row' }, confirmButton, backButton));
  const resetPanel = h('div', { id: 'reset-panel', class: 'reset-panel', hidden: true }, chooseForm, confirmBox);
  let pendingReset: string | null = null;

  afterInput.addEventListener('focus', () => (choiceAfter.checked = true));
  resetButton.addEventListener('click', () => (resetPanel.hidden ? openReset() : closeReset()));
  cancelButton.addEventListener('click', () => closeReset());
  backButton.addEventListener('click', () => {
    confirmBox.hidden = true;
    chooseForm.hidden = false;
    reviewButton.focus();
  });
  chooseForm.addEventListener('submit', (event) => {
    event.preventDefault();
    const to = choiceOldest.checked ? null : afterInput.value.trim();
    if (to !== null && !LOG_ID.test(to)) {
      show('error', 'A log id is letters and digits only (up to 128), e.g. the checkpoint of an earlier run.');
      afterInput.focus();
      return;
    }
    pendingReset = to;
    const from = state.checkpoint ?? 'none (the oldest retained log)';
    replace(confirmText,
      h('strong', {}, 'Move the checkpoint?'), ' From ', h('code', {}, from), ' to ', h('code', {}, to ?? 'none (the oldest retained log)'), '. ',
      to === null
        ? 'The next run ships every log Auth0 still keeps, including logs already in Papertrail.'
        : 'The next run ships the logs after it: moving back ships some logs again, moving forward skips logs that were never shipped.',
    );
    show('info', '');
    chooseForm.hidden = true;
    confirmBox.hidden = false;
    confirmButton.focus();
  });
  confirmButton.addEventListener('click', () =>
    void guard(async () => {
      await actions.reset(pendingReset);
      closeReset();
    }, confirmButton, 'Resetting…'),
  );

  function openReset(): void {
    resetPanel.hidden = false;
    chooseForm.hidden = false;
    confirmBox.hidden = true;
    resetButton.setAttribute('aria-expanded', 'true');
    afterInput.focus();
  }
  function closeReset(): void {
    resetPanel.hidden = true;
    pendingReset = null;
    afterInput.value = '';
    resetButton.setAttribute('aria-expanded', 'false');
  }

  const controls = h('div', { class: 'controls' },
    h('p', { class: 'signed-in' }, 'Signed in as administrator in this tab. ', signOutButton),
    h('div', { class: 'row actions' }, runButton, pauseButton, resetButton),
    resetPanel,
    h('div', { class: 'row check' }, checkButton, sendTestBox, h('label', { for: 'check-send-test' }, 'also send a test message to Papertrail')),
    checkResults,
  );

  /** Runs one action at a time, with its button showing that it is busy. */
  async function guard(action: () => Promise<void>, button?: HTMLButtonElement, busyLabel?: string): Promise<void> {
    if (busy) return;
    busy = true;
    const label = button?.textContent ?? '';
    const buttons = container.querySelectorAll('button');
    buttons.forEach((b) => (b.disabled = true));
    if (button && busyLabel) button.textContent = busyLabel;
    try {
      await action();
    } catch (error) {
      show('error', `The request failed: ${(error as Error).message || 'no answer from the service'}.`);
    } finally {
      busy = false;
      buttons.forEach((b) => (b.disabled = false));
      if (button && busyLabel) button.textContent = label;
      update(state);
    }
  }

  function update(next: AdminState): void {
    const wasSignedIn = state.signedIn;
    state = next;
    if (next.signedIn !== wasSignedIn || container.childElementCount === 0) {
      container.replaceChildren(next.signedIn ? controls : signInForm, message);
      if (!next.signedIn) closeReset();
    }
    if (!busy) pauseButton.textContent = next.paused ? 'Resume' : 'Pause';
    pauseButton.setAttribute('aria-pressed', String(next.paused));
    checkpointText.textContent = next.checkpoint ?? 'none';
  }

  update(state);
  return { update, show, focusToken: () => tokenInput.focus() };
}
