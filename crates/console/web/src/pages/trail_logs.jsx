// "CloudWatch Logs: Configure" on a trail (seed 004): a log group, new or existing, and
// a role CloudTrail assumes to deliver there, new (with CloudTrail's default policy) or
// existing; then UpdateTrail. Each step is the same call the CLI walk-through makes.
import { useState } from 'preact/hooks';
import { callJson, callQuery, list } from '../aws.js';
import { session } from '../session.js';
import { ErrorBox, Field, Modal, useAction, useAsync } from '../ui.jsx';

const DEFAULT_GROUP = 'CloudTrail/DefaultLogGroup';
const DEFAULT_ROLE = 'CloudTrail_CloudWatchLogs_Role';

/** The trust policy that lets CloudTrail assume the role. */
const TRUST = {
  Version: '2012-10-17',
  Statement: [{ Sid: '', Effect: 'Allow', Principal: { Service: 'cloudtrail.amazonaws.com' }, Action: 'sts:AssumeRole' }],
};

/** CloudTrail's default role policy: create its streams in the group and put events there. */
export function deliveryPolicy(region, account, group) {
  const streams = `arn:aws:logs:${region}:${account}:log-group:${group}:log-stream:${account}_CloudTrail_${region}*`;
  return {
    Version: '2012-10-17',
    Statement: [
      { Sid: 'AWSCloudTrailCreateLogStream2014110', Effect: 'Allow', Action: ['logs:CreateLogStream'], Resource: [streams] },
      { Sid: 'AWSCloudTrailPutLogEvents20141101', Effect: 'Allow', Action: ['logs:PutLogEvents'], Resource: [streams] },
    ],
  };
}

/** The group's ARN as trails name it (`…:log-group:NAME:*`), creating the group if it is new. */
async function groupArn(name) {
  const find = async () => (await callJson('logs', 'DescribeLogGroups', { logGroupNamePrefix: name })).logGroups?.find((g) => g.logGroupName === name);
  let group = await find();
  if (!group) {
    await callJson('logs', 'CreateLogGroup', { logGroupName: name });
    group = await find();
  }
  return group.arn;
}

/** The dialog; `onDone` runs after the trail was updated. */
export function ConfigureLogs({ trail, onClose, onDone }) {
  const current = trail.CloudWatchLogsLogGroupArn?.match(/:log-group:(.*?)(:\*)?$/)?.[1];
  const [group, setGroup] = useState(current || DEFAULT_GROUP);
  const [mode, setMode] = useState(trail.CloudWatchLogsRoleArn ? 'existing' : 'new');
  const [roleName, setRoleName] = useState(DEFAULT_ROLE);
  const [roleArn, setRoleArn] = useState(trail.CloudWatchLogsRoleArn || '');
  const roles = useAsync(async () => list((await callQuery('iam', 'ListRoles', { MaxItems: 1000 })).Roles), []);

  const configure = useAction(async () => {
    const arn = await groupArn(group);
    let role = roleArn;
    if (mode === 'new') {
      const region = trail.HomeRegion || session().region;
      const created = await callQuery('iam', 'CreateRole', { RoleName: roleName, AssumeRolePolicyDocument: JSON.stringify(TRUST) });
      role = created.Role.Arn;
      const policy = deliveryPolicy(region, session().account, group);
      await callQuery('iam', 'PutRolePolicy', { RoleName: roleName, PolicyName: 'cloudtrail-policy', PolicyDocument: JSON.stringify(policy) });
    }
    await callJson('cloudtrail', 'UpdateTrail', { Name: trail.TrailARN, CloudWatchLogsLogGroupArn: arn, CloudWatchLogsRoleArn: role });
    onDone();
  });
  const allow = (e) => {
    e.preventDefault();
    configure.run();
  };

  return (
    <Modal title="CloudWatch Logs" onClose={onClose}>
      <form class="page" onSubmit={allow}>
        <Field label="New or existing log group" hint="A group that does not exist yet is created.">
          <input name="cwlLogGroup" required value={group} onInput={(e) => setGroup(e.target.value)} />
        </Field>
        <Field label="IAM role">
          <select name="cwlRoleMode" value={mode} onChange={(e) => setMode(e.target.value)}>
            <option value="new">Create a new role</option>
            <option value="existing">Use an existing role</option>
          </select>
        </Field>
        {mode === 'new' ? (
          <Field label="Role name" hint="Gets CloudTrail's trust policy and its default policy: create log streams in this group and put events there.">
            <input name="cwlRoleName" required value={roleName} onInput={(e) => setRoleName(e.target.value)} />
          </Field>
        ) : (
          <Field label="Role">
            <select name="cwlRoleArn" required value={roleArn} onChange={(e) => setRoleArn(e.target.value)}>
              <option value="">Choose a role</option>
              {(roles.data || []).map((r) => <option key={r.Arn} value={r.Arn}>{r.RoleName}</option>)}
            </select>
          </Field>
        )}
        <ErrorBox error={roles.error || configure.error} />
        <div class="buttons">
          <button type="button" onClick={onClose}>Cancel</button>
          <button type="submit" class="primary" disabled={configure.busy}>Allow</button>
        </div>
      </form>
    </Modal>
  );
}
