// `npm run chaos`: one campaign against a real-browser cluster (see campaign.ts), its report on
// stdout, the history under bench/results/; exits 1 when the checker finds a violation.
import { runCampaign } from './campaign.ts';
import { chaosUsage, parseOptions, type ChaosOptions } from './options.ts';
import { formatReport, writeHistory } from './report.ts';

function argumentsOrExit(): ChaosOptions {
  try {
    return parseOptions(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`npm run chaos: ${error instanceof Error ? error.message : String(error)}\n${chaosUsage}\n`);
    return process.exit(2);
  }
}

const options = argumentsOrExit();
const log = (line: string): void => void process.stdout.write(`${line}\n`);
try {
  const result = await runCampaign({ ...options, log });
  const file = writeHistory(result);
  log(formatReport(result, options.nodes, options.compactEvery, file, options.loseDatabaseOnKill));
  process.exit(result.verdict.ok ? 0 : 1);
} catch (error) {
  log(`chaos campaign (seed ${options.seed}) could not run: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  process.exit(2);
}
