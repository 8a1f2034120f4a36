// The Query protocol's parameter flattening, as botocore's serializer writes it: lists as
// `Name.member.N` (or the model's member name, as RDS's `Parameters.Parameter.N`), structures
// as `Name.Member`, empty lists as `Name=`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { queryParams } from '../src/aws.js';

test('lists, structures and empty lists flatten as botocore writes them', () => {
  assert.deepEqual(queryParams({ PolicySourceArn: 'arn:aws:iam::1:user/a', ActionNames: ['logs:A', 'logs:B'], ResourceArns: [] }), [
    ['PolicySourceArn', 'arn:aws:iam::1:user/a'],
    ['ActionNames.member.1', 'logs:A'],
    ['ActionNames.member.2', 'logs:B'],
    ['ResourceArns', ''],
  ]);
  assert.deepEqual(queryParams({ Filter: { Name: 'n', Values: ['x'] } }), [['Filter.Name', 'n'], ['Filter.Values.member.1', 'x']]);
});

test("a list's member name comes from the model where it has one", () => {
  const params = queryParams(
    { DBClusterParameterGroupName: 'g', Parameters: [{ ParameterName: 'server_audit_logging', ParameterValue: '1', ApplyMethod: 'immediate' }] },
    '',
    [],
    { Parameters: 'Parameter' },
  );
  assert.deepEqual(params, [
    ['DBClusterParameterGroupName', 'g'],
    ['Parameters.Parameter.1.ParameterName', 'server_audit_logging'],
    ['Parameters.Parameter.1.ParameterValue', '1'],
    ['Parameters.Parameter.1.ApplyMethod', 'immediate'],
  ]);
});

test('absent members are left out and numbers and booleans become text', () => {
  assert.deepEqual(queryParams({ MaxItems: 100, Marker: undefined, IsTruncated: false, X: null }), [['MaxItems', '100'], ['IsTruncated', 'false']]);
});
