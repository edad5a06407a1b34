/**
 * The "Agent" output channel: live `agent/output` text of every run, with a
 * header line whenever the stream switches to another run or step, and a
 * read-only document (`agentls-output:`) with a step's full output on demand.
 *
 * Owns only presentation; it never talks to the server itself (the caller
 * passes a fetch function for full outputs).
 */

import * as vscode from 'vscode';

import { OutputParams } from './protocol';

export const OUTPUT_SCHEME = 'agentls-output';

export class RunOutput implements vscode.Disposable {
  readonly channel: vscode.OutputChannel;
  private readonly lastSeq = new Map<string, number>();
  private current: { runId: string; step: string } | undefined;
  private atLineStart = true;

  constructor(private readonly workflowOf: (runId: string) => string | undefined) {
    this.channel = vscode.window.createOutputChannel('Agent');
  }

  /** Appends one `agent/output` slice; a repeated or older `seq` is dropped. */
  append(params: OutputParams): void {
    const last = this.lastSeq.get(params.runId);
    if (last !== undefined && params.seq <= last) {
      return;
    }
    this.lastSeq.set(params.runId, params.seq);
    if (this.current?.runId !== params.runId || this.current.step !== params.step) {
      if (!this.atLineStart) {
        this.channel.appendLine('');
      }
      const workflow = this.workflowOf(params.runId) ?? 'run';
      this.channel.appendLine(`── ${workflow} ${params.runId} · ${params.step} ──`);
      this.current = { runId: params.runId, step: params.step };
      this.atLineStart = true;
    }
    // PTY output ends lines with \r\n; the channel wants \n.
    const text = params.text.replace(/\r\n/g, '\n');
    if (text.length > 0) {
      this.channel.append(text);
      this.atLineStart = text.endsWith('\n');
    }
  }

  /** Forgets sequence numbers, after the server restarted (a new server starts seq over). */
  reset(): void {
    this.lastSeq.clear();
    this.current = undefined;
  }

  show(): void {
    this.channel.show(true);
  }

  dispose(): void {
    this.channel.dispose();
  }
}

/** Serves `agentls-output:/<runId>/<step>` documents with a step's full output. */
export class OutputDocuments implements vscode.TextDocumentContentProvider {
  constructor(private readonly fetch: (runId: string, step?: string) => Promise<string>) {}

  static uri(runId: string, step?: string, label?: string): vscode.Uri {
    const name = label ?? (step ? `${runId}-${step}` : runId);
    return vscode.Uri.from({
      scheme: OUTPUT_SCHEME,
      path: `/${name}.log`,
      query: new URLSearchParams(step ? { runId, step } : { runId }).toString(),
    });
  }

  provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    const query = new URLSearchParams(uri.query);
    const runId = query.get('runId') ?? '';
    return this.fetch(runId, query.get('step') ?? undefined);
  }
}
